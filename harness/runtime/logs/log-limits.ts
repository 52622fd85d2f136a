// How much of a container's output the runtimes keep: on disk per container (the head and
// a rolling tail, as capped-log-file.ts lays them out) and in memory for logs(). The disk
// cap follows the kubelet's containerLogMaxSize, whose default (10Mi) is ours, so a pod
// keeps as much log on every runtime; the project's cluster sets its kubelet to the same
// (harness/cluster/cluster-configs.ts, held equal by log-limits.test.ts).
import { UsageError } from "../../cli/usage-error.ts";

const MIB = 1024 * 1024;

/** Per container, on disk: the kubelet's containerLogMaxSize default, "10Mi". */
export const DEFAULT_CONTAINER_LOG_MAX_BYTES = 10 * MIB;
/** Below this there is no room for a useful head, tail and the marker between them. */
export const MIN_CONTAINER_LOG_MAX_BYTES = 64 * 1024;
/** Overrides the disk cap for every runtime (MiB, fractions allowed). */
export const CONTAINER_LOG_MAX_ENV = "SIDECAR_BENCH_CONTAINER_LOG_MAX_MIB";

/** Per container, in memory: the tail logs() reads, bounded in bytes whatever the line lengths. */
export const LOG_TAIL_MAX_BYTES = 1 * MIB;
export const LOG_TAIL_MAX_LINES = 2_000;
/** A longer line is shown by its last this many bytes (a line without newline may be endless). */
export const LOG_LINE_MAX_BYTES = 4 * 1024;

/** The disk cap the environment asks for, else the default; a malformed value is invalid input (exit 2). */
export function containerLogMaxBytes(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[CONTAINER_LOG_MAX_ENV];
  if (text === undefined || text.trim() === "") return DEFAULT_CONTAINER_LOG_MAX_BYTES;
  const mib = Number(text);
  const bytes = Math.floor(mib * MIB);
  if (!Number.isFinite(mib) || bytes < MIN_CONTAINER_LOG_MAX_BYTES) {
    throw new UsageError(`${CONTAINER_LOG_MAX_ENV}: expected a size in MiB ≥ ${MIN_CONTAINER_LOG_MAX_BYTES / MIB} (e.g. 10), found "${text}"`);
  }
  return bytes;
}
