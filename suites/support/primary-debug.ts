// The reference primary's identity (GET /v2/debug/pid, asked directly, bypassing the
// sidecar): its process and when it loaded its model. A sidecar crash must leave both
// untouched.
import { timedRequest, describeOutcome } from "./timed-request.ts";

export interface PrimaryIdentity {
  pid: number;
  /** Wall-clock seconds. */
  startedAt: number;
  /** Wall-clock seconds; null while the model loads. */
  modelLoadedAt: number | null;
  /** Every HTTP request the primary has handled, this one included. */
  requests: number;
}

export async function primaryIdentity(directUrl: string, signal?: AbortSignal): Promise<PrimaryIdentity> {
  const outcome = await timedRequest(directUrl, { method: "GET", path: "/v2/debug/pid" }, { timeoutMs: 2_000, ...(signal ? { signal } : {}) });
  if (outcome.status !== 200 || !outcome.body) {
    throw new Error(`GET ${directUrl}/v2/debug/pid: expected 200 with the primary's identity, got ${describeOutcome(outcome)}`);
  }
  const parsed = JSON.parse(outcome.body.toString("utf8")) as { pid: number; started_at: number; model_loaded_at: number | null; requests: number };
  return { pid: parsed.pid, startedAt: parsed.started_at, modelLoadedAt: parsed.model_loaded_at, requests: parsed.requests };
}
