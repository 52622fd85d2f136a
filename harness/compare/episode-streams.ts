// From the fate of every request of an episode to the figures its verdicts use:
// availability and latency before and after the fault, requests lost, and how long
// clients waited for the service to come back. Pure, so the rules are testable.
import type { RequestOutcome } from "../load/open-loop.ts";
import { quantile } from "../measure/statistics.ts";
import type { StreamRecord, StreamWindow } from "./comparison-model.ts";

/** The generator's own lateness is not the pod's failure: such requests are left out of every count. */
const NOT_SENT = "not-sent";

function windowOf(outcomes: readonly RequestOutcome[]): StreamWindow {
  const sent = outcomes.filter((o) => o.error !== NOT_SENT);
  const okLatenciesUs = sent.filter((o) => o.error === null).map((o) => o.latencyMs * 1000);
  const failed = sent.length - okLatenciesUs.length;
  return {
    sent: sent.length,
    ok: okLatenciesUs.length,
    failed,
    availabilityPct: sent.length === 0 ? null : (100 * okLatenciesUs.length) / sent.length,
    p50Us: okLatenciesUs.length === 0 ? null : quantile(okLatenciesUs, 0.5),
    p99Us: okLatenciesUs.length === 0 ? null : quantile(okLatenciesUs, 0.99),
  };
}

/** Trigger → the first ok request scheduled after the last failure; 0 without failures; null when the stream ended failing. */
export function timeToRecoverMs(outcomes: readonly RequestOutcome[], triggerAtMs: number): number | null {
  const after = outcomes.filter((o) => o.scheduledAtMs >= triggerAtMs && o.error !== NOT_SENT).sort((a, b) => a.scheduledAtMs - b.scheduledAtMs);
  const lastFailure = [...after].reverse().find((o) => o.error !== null);
  if (lastFailure === undefined) return 0;
  const recovered = after.find((o) => o.error === null && o.scheduledAtMs > lastFailure.scheduledAtMs);
  return recovered === undefined ? null : recovered.scheduledAtMs - triggerAtMs;
}

export function summarizeStream(input: {
  target: StreamRecord["target"];
  ratePerSec: number;
  outcomes: readonly RequestOutcome[];
  startedAtMs: number;
  triggerAtMs: number;
  binMs: number;
}): StreamRecord {
  const { outcomes, triggerAtMs, startedAtMs, binMs } = input;
  const before = outcomes.filter((o) => o.scheduledAtMs < triggerAtMs);
  const during = outcomes.filter((o) => o.scheduledAtMs >= triggerAtMs);
  const errors: Record<string, number> = {};
  for (const o of during) if (o.error !== null) errors[o.error] = (errors[o.error] ?? 0) + 1;
  const timeline: StreamRecord["timeline"] = [];
  for (const o of outcomes) {
    if (o.error === NOT_SENT) continue;
    const bin = Math.max(0, Math.floor((o.scheduledAtMs - startedAtMs) / binMs));
    while (timeline.length <= bin) timeline.push({ ok: 0, failed: 0 });
    if (o.error === null) timeline[bin]!.ok++;
    else timeline[bin]!.failed++;
  }
  return {
    target: input.target,
    ratePerSec: input.ratePerSec,
    before: windowOf(before),
    during: windowOf(during),
    errors,
    timeToRecoverMs: timeToRecoverMs(outcomes, triggerAtMs),
    timeline,
  };
}
