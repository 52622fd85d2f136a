// The values --runtime and --pod-access accept, in a module of their own (no runtime code) so
// the command line can validate and list them without loading the runtimes.
export const AVAILABLE_RUNTIMES = ["local", "docker", "kubernetes"] as const;
export type RuntimeName = (typeof AVAILABLE_RUNTIMES)[number];

/** How the kubernetes runtime's checks reach pods: auto, pod-ip (the harness is on the node) or port-forward. */
export const POD_ACCESS_MODES = ["auto", "pod-ip", "port-forward"] as const;
export type PodAccessMode = (typeof POD_ACCESS_MODES)[number];
