// Which image a container runs on a cluster. The project's images (sidecar-bench/<name>)
// are built locally and exist in no registry: a cluster runs their self-contained
// variant (:cluster-<hash>, the source tree inside, images/cluster-source) or their
// content-hash tag, never a moving tag such as :latest, so a node cannot run stale code
// under a name that looks current; and they are never pulled (pull policy Never): a node
// without them fails at once with a message saying how to load them. Other images (a
// vendor's sidecar) are used as declared and pulled if absent (IfNotPresent).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { ResolvedImage } from "./kubernetes-pod.ts";

const DOCKER_CLI = existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker";
const PROJECT_REPOSITORY = /^sidecar-bench\/([a-z0-9-]+)(?::([\w.-]+))?$/;
/** The image of the NAT init container: the project's base (a shell and iptables). */
export const NET_INIT_IMAGE = "sidecar-bench/base:latest";
/** The in-cluster load generator (in-cluster-generator.ts). */
export const LOADGEN_IMAGE = "sidecar-bench/loadgen:latest";

export class ImageResolutionError extends Error {
  override name = "ImageResolutionError";
}

/** The content-hash tag an image carries as its label, from the local Docker engine (null: no engine, or no such image). */
export type LabelLookup = (reference: string) => string | null;

export function dockerInputsHash(reference: string): string | null {
  const result = spawnSync(DOCKER_CLI, ["image", "inspect", "--format", '{{ index .Config.Labels "sidecar-bench.inputs-hash" }}', reference], { encoding: "utf8" });
  const hash = result.status === 0 ? result.stdout.trim() : "";
  return hash && hash !== "<no value>" ? hash : null;
}

export function resolveImage(declared: string | undefined, container: string, lookup: LabelLookup = dockerInputsHash, pullPolicy?: ResolvedImage["imagePullPolicy"]): ResolvedImage {
  if (!declared) throw new ImageResolutionError(`container "${container}" declares no image (spec.container.image); the kubernetes runtime runs images`);
  const project = PROJECT_REPOSITORY.exec(declared);
  if (!project) return { image: declared, imagePullPolicy: pullPolicy ?? "IfNotPresent", project: false };
  const [, name, tag] = project;
  if (tag && tag !== "latest" && tag !== "cluster") return { image: declared, imagePullPolicy: pullPolicy ?? "Never", project: true };
  const clusterHash = lookup(`sidecar-bench/${name}:cluster`);
  if (clusterHash) return { image: `sidecar-bench/${name}:cluster-${clusterHash.slice(0, 12)}`, imagePullPolicy: pullPolicy ?? "Never", project: true };
  const hash = lookup(`sidecar-bench/${name}:latest`);
  if (hash) return { image: `sidecar-bench/${name}:${hash.slice(0, 12)}`, imagePullPolicy: pullPolicy ?? "Never", project: true };
  throw new ImageResolutionError(
    `container "${container}" runs the project image ${declared}, which the local Docker engine does not have; build it with \`node scripts/build-images.mjs\` (then \`sidecar-bench cluster up\` imports it, or \`kind load docker-image\`)`,
  );
}
