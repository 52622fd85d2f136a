// `sidecar-bench cluster <action>`: the actions, apart from the cluster code so that the
// command line validates and lists them without loading it.
export const CLUSTER_ACTIONS = ["up", "down", "status", "build", "images"] as const;
export type ClusterAction = (typeof CLUSTER_ACTIONS)[number];

export function isClusterAction(value: string): value is ClusterAction {
  return (CLUSTER_ACTIONS as readonly string[]).includes(value);
}
