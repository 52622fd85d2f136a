// One wording, wherever a capped log is reported (the tail logs() returns, the run's warnings).
import type { ContainerLogUsage } from "../pod-runtime.ts";
import { formatBytes } from "./format-bytes.ts";

/**
 * "the container wrote 812.3 MiB, 802.3 MiB dropped; its log file keeps the first and the
 * last 5.0 MiB (…/pods/p/c.log)", or null when the file holds all of it.
 */
export function describeDroppedOutput(usage: ContainerLogUsage): string | null {
  if (usage.droppedBytes === 0) return null;
  const keptEachEnd = (usage.writtenBytes - usage.droppedBytes) / 2;
  const failure = usage.error ? `; writing it failed: ${usage.error}` : "";
  return (
    `the container wrote ${formatBytes(usage.writtenBytes)}, ${formatBytes(usage.droppedBytes)} dropped; ` +
    `its log file keeps the first and the last ${formatBytes(keptEachEnd)} (${usage.file})${failure}`
  );
}
