// From the fate of every request of an episode to the figures its verdicts use:
// availability and latency before and after the fault, requests lost, and how long
// clients waited for the service to come back. Pure, so the rules are testable.
import type { RequestOutcome } from "../load/open-loop.ts";
import { createPrng, type Seed } from "../measure/prng.ts";
import { quantile } from "../measure/statistics.ts";
import type { StreamRecord, StreamWindow } from "./comparison-model.ts";

/** The generator's own lateness is not the pod's failure: such requests are left out of every count. */
const NOT_SENT = "not-sent";

function okLatenciesUs(outcomes: readonly RequestOutcome[]): number[] {
  return outcomes.filter((o) => o.error === null).map((o) => o.latencyMs * 1000);
}

function windowOf(outcomes: readonly RequestOutcome[]): StreamWindow {
  const sent = outcomes.filter((o) => o.error !== NOT_SENT);
  const okLatencies = okLatenciesUs(sent);
  return {
    sent: sent.length,
    ok: okLatencies.length,
    failed: sent.length - okLatencies.length,
    availabilityPct: sent.length === 0 ? null : (100 * okLatencies.length) / sent.length,
    p50Us: okLatencies.length === 0 ? null : quantile(okLatencies, 0.5),
    p99Us: okLatencies.length === 0 ? null : quantile(okLatencies, 0.99),
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

const RATIO_RESAMPLES = 2_000;

/**
 * p99(during) / p99(before) with a two-sample percentile-bootstrap 95% CI: a p99 of a few
 * hundred requests is noisy, and a verdict on "the primary's p99 grew" must say how sure it is.
 */
export function p99RatioCi95(beforeUs: readonly number[], duringUs: readonly number[], seed: Seed): StreamRecord["p99Ratio"] {
  if (beforeUs.length < 20 || duringUs.length < 20) return null;
  const p99 = (values: readonly number[]) => quantile(values, 0.99);
  const prng = createPrng(seed, "p99-ratio");
  const resample = (values: readonly number[]) => Array.from({ length: values.length }, () => values[prng.nextInt(values.length)]!);
  const ratios: number[] = [];
  for (let r = 0; r < RATIO_RESAMPLES; r++) ratios.push(p99(resample(duringUs)) / p99(resample(beforeUs)));
  return { estimate: p99(duringUs) / p99(beforeUs), low: quantile(ratios, 0.025), high: quantile(ratios, 0.975) };
}

export function summarizeStream(input: {
  target: StreamRecord["target"];
  ratePerSec: number;
  outcomes: readonly RequestOutcome[];
  startedAtMs: number;
  triggerAtMs: number;
  binMs: number;
  seed: Seed;
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
    p99Ratio: p99RatioCi95(okLatenciesUs(before), okLatenciesUs(during), input.seed),
    timeline,
  };
}
