// What a docker container of a pod sees of the host's files, so that a manifest's
// command means what it means on the local runtime: manifests reach beyond their own
// folder (`--app-dir ../../primaries/fastapi-kserve`, a Python module importing a
// sibling tree, a binary built into the project), so the whole source tree the
// manifest lives in is mounted read-only at its own absolute path, with the manifest's
// folder as working directory. The source tree is the harness's project when the
// manifest is inside it, else the manifest's nearest ancestor holding package.json or
// .git, else the manifest's folder alone.
import { existsSync } from "node:fs";
import { dirname, join, relative, isAbsolute, parse } from "node:path";
import { PROJECT_ROOT } from "../../project-root.ts";

export interface BindMount {
  source: string;
  target: string;
  mode: "ro" | "rw";
}

const HARNESS_ROOT = PROJECT_ROOT;
const ROOT_MARKERS = ["package.json", ".git"];

function inside(dir: string, root: string): boolean {
  const path = relative(root, dir);
  return path === "" || (!path.startsWith("..") && !isAbsolute(path));
}

/** The directory mounted for a manifest whose folder is `baseDir`. */
export function sourceTreeOf(baseDir: string, harnessRoot = HARNESS_ROOT): string {
  if (inside(baseDir, harnessRoot)) return harnessRoot;
  // The filesystem root is never a source tree: mounting it would hide the image's own files.
  for (let dir = baseDir; dir !== parse(dir).root; dir = dirname(dir)) {
    if (ROOT_MARKERS.some((marker) => existsSync(join(dir, marker)))) return dir;
  }
  return baseDir;
}

/**
 * The source tree (read-only), the rendered `{{ file }}` configs (read-only, at their
 * own path, since commands name them by it), the container's /tmp (writable, kept
 * across restarts as an emptyDir volume is) and the pod volumes it mounts (writable, at
 * their host path, shared with the pod's other containers: pod-volumes.ts).
 */
export function podMounts(input: { baseDir: string; configDir: string; tmpDir: string; volumes?: string[]; harnessRoot?: string }): BindMount[] {
  const tree = sourceTreeOf(input.baseDir, input.harnessRoot);
  return [
    { source: tree, target: tree, mode: "ro" },
    { source: input.configDir, target: input.configDir, mode: "ro" },
    { source: input.tmpDir, target: "/tmp", mode: "rw" },
    ...(input.volumes ?? []).map((dir): BindMount => ({ source: dir, target: dir, mode: "rw" })),
  ];
}
