// The reference primary's JSON access log (one line per request on stdout, written when
// the response completes): what reached the primary and when, from its own side.
import type { StartedPod } from "../../harness/runtime/pod-runtime.ts";
import { PRIMARY_CONTAINER } from "../../harness/scenario/index.ts";

export interface AccessLogLine {
  /** Wall-clock ms since the epoch (the line's `ts`). */
  atEpochMs: number;
  seq: number;
  method: string;
  path: string;
  status: number;
  requestId?: string;
  raw: string;
}

/** The access-log lines among the primary's last `maxLines` output lines (other lines are skipped). */
export function primaryAccessLog(pod: StartedPod, maxLines = 2_000): AccessLogLine[] {
  const lines: AccessLogLine[] = [];
  for (const raw of pod.logs(PRIMARY_CONTAINER, maxLines)) {
    if (!raw.startsWith("{")) continue;
    try {
      const entry = JSON.parse(raw) as { ts?: unknown; seq?: unknown; method?: unknown; path?: unknown; status?: unknown; request_id?: unknown };
      if (typeof entry.ts !== "string" || typeof entry.seq !== "number" || typeof entry.path !== "string") continue;
      const atEpochMs = Date.parse(entry.ts);
      if (Number.isNaN(atEpochMs)) continue;
      lines.push({
        atEpochMs,
        seq: entry.seq,
        method: String(entry.method),
        path: entry.path,
        status: Number(entry.status),
        ...(typeof entry.request_id === "string" ? { requestId: entry.request_id } : {}),
        raw,
      });
    } catch {
      // uvicorn's own messages and anything else that is not an access-log line.
    }
  }
  return lines;
}
