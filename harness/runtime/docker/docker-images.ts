// Which image a container runs, and whether it is on this machine. The image is the
// manifest's `spec.container.image`, used as is: every project manifest declares one,
// so there is no guessing from the command. Nothing is ever pulled (no registry is
// reachable), so a missing image is an error saying how to build or load it.
import type Dockerode from "dockerode";
import type { ContainerSpec } from "../pod-runtime.ts";
import { PodStartError } from "../pod-runtime.ts";

/** The pod's pause container runs pod-pause.sh: a shell and iptables, which the base has. */
export const PAUSE_IMAGE = "sidecar-bench/base:latest";

const BUILD_HINT =
  'build the project\'s images with "npm run setup -- --docker" (it also starts an engine when none runs; "node scripts/build-images.mjs" builds the images alone, offline, tagging each sidecar-bench/<name>:latest and envoyproxy/envoy:v<version>)';

export function imageFor(container: ContainerSpec): string {
  if (container.image) return container.image;
  throw new PodStartError(
    `container "${container.name}" (manifest in ${container.baseDir}) declares no image, which the docker runtime needs: ` +
      `add spec.container.image to its manifest — a project image (sidecar-bench/primary-fastapi, node-sidecars, aux-proxy: ` +
      `${BUILD_HINT}) or any image on this machine ("docker load -i <file>")`,
    container.name,
    [],
  );
}

/** Image ids by image name, for the environment fingerprint; throws naming every missing image. */
export async function requireLocalImages(dockerode: Dockerode, wanted: Map<string, string[]>): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  const missing: string[] = [];
  for (const [image, users] of wanted) {
    try {
      ids[image] = (await dockerode.getImage(image).inspect()).Id;
    } catch {
      missing.push(`"${image}" (for ${users.join(", ")})`);
    }
  }
  if (missing.length > 0) {
    throw new PodStartError(
      `image ${missing.join(", ")} not on this machine, and the docker runtime pulls nothing (no registry is reachable); ` +
        `${BUILD_HINT}, or load one with "docker load -i <file>"`,
      wanted.get(missing[0]!.split('"')[1]!)?.[0] ?? "",
      [],
    );
  }
  return ids;
}
