// Pod volumes: directories the containers of one pod share (an access log a shipper
// follows, a secret file an agent writes, a textfile an exporter serves). On the local and
// docker runtimes a volume is a per-pod directory on the host (docker bind-mounts it at the
// same path), so the harness can look into it too; kubernetes uses an emptyDir. Like an
// emptyDir, a volume ends with its pod: what containers left there (a secret file, an
// access log) is not kept in the run's folder.
import { chmodSync, mkdirSync, rmSync } from "node:fs";
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

/** Removes the pod's volume directories (at the pod's end, as the kubelet removes an emptyDir); a file it cannot remove is left, not fatal. */
export function removeVolumeDirs(paths: Record<string, string>): void {
  for (const dir of Object.values(paths)) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Written by another user (a container's root without the harness being root): left for the run folder's owner.
    }
  }
}
