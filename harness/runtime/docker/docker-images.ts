// Which image a container runs, and whether it is on this machine. A manifest's
// `image` is used as is; a container without one (the project's primary and own
// sidecars declare none) gets the project's image for its command's interpreter, which
// holds what the local runtime would run it with. Nothing is ever pulled: no registry
// is reachable, so a missing image is an error saying how to build or load it.
import type Dockerode from "dockerode";
import type { ContainerSpec } from "../pod-runtime.ts";
import { PodStartError } from "../pod-runtime.ts";

/** Built by scripts/build-images.mjs, which also moves each :latest to its newest content-hash tag. */
const DEFAULT_IMAGE_BY_COMMAND: Record<string, string> = {
  python: "sidecar-bench/primary-fastapi:latest",
  python3: "sidecar-bench/primary-fastapi:latest",
  uvicorn: "sidecar-bench/primary-fastapi:latest",
  node: "sidecar-bench/node-sidecars:latest",
  envoy: "sidecar-bench/envoy:latest",
};

/** The pod's pause container runs the port forwarder, a Node script. */
export const PAUSE_IMAGE = "sidecar-bench/node-sidecars:latest";

const BUILD_HINT = 'build the project\'s images with "node scripts/build-images.mjs" (offline; it also tags envoyproxy/envoy:v<version>)';

export function imageFor(container: ContainerSpec): string {
  if (container.image) return container.image;
  const command = (container.command[0] ?? "").split("/").pop() ?? "";
  const image = DEFAULT_IMAGE_BY_COMMAND[command];
  if (!image) {
    throw new PodStartError(
      `container "${container.name}" declares no image, and the docker runtime has no default for command "${command}" ` +
        `(defaults exist for ${Object.keys(DEFAULT_IMAGE_BY_COMMAND).join(", ")}); add spec.container.image to its manifest`,
      container.name,
      [],
    );
  }
  return image;
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
