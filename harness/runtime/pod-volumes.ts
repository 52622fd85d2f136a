// Pod volumes: directories the containers of one pod share (an access log a shipper
// follows, a secret file an agent writes, a textfile an exporter serves). On the local and
// docker runtimes a volume is a per-pod directory on the host (docker bind-mounts it at the
// same path), so the harness can look into it too; kubernetes uses an emptyDir.
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ContainerSpec, PodSpec } from "./pod-runtime.ts";

/** Every volume some container of the pod mounts, in the order containers name them. */
export function podVolumeNames(spec: PodSpec): string[] {
  return [...new Set(spec.containers.flatMap((c) => c.volumes ?? []))];
}

/**
 * Creates `<podDir>/volumes/<name>` for each of the pod's volumes and returns their paths by
 * name. World-writable, as an emptyDir is: containers may run as different users (a docker
 * image's root beside a local process), and each must write its own files there.
 */
export function createVolumeDirs(podDir: string, spec: PodSpec): Record<string, string> {
  const paths: Record<string, string> = {};
  for (const name of podVolumeNames(spec)) {
    const dir = join(podDir, "volumes", name);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    paths[name] = dir;
  }
  return paths;
}

/** The volumes one container mounts, name → path where it sees them (what `{{ volume }}` expands to). */
export function mountedVolumes(container: ContainerSpec, pathOf: (name: string) => string): Record<string, string> {
  return Object.fromEntries((container.volumes ?? []).map((name) => [name, pathOf(name)]));
}
