// vegeta's per-request results as the harness's own open loop reports a round: one
// OpenLoopResult per arm, same histograms, same summary figures (see open-loop.ts).
//
// vegeta's latency runs from when it began a request to its response body read: our
// service time (it includes waiting for one of -max-connections, which vegeta cannot
// separate, so the client-queue histogram stays empty). Our latency counts from the
// SCHEDULED send: pacing error (how late vegeta began the request) + service time. A
// generator that falls behind — because the server stalled it or it ran out of CPU —
// therefore shows up in the latency of every request that was due meanwhile, instead of
// being hidden (coordinated omission), exactly as in the harness's own loop.
//
// vegeta does not report when its attack began. Request k is scheduled at t0 + k ×
// interval; t0 is the latest start consistent with the results, min over k of
// (timestamp k − k × interval), since no request is sent before it is due. So pacing
// errors count from the best-paced request: a lateness common to every request (Go's
// timer slack) is left out of all arms alike, and Δ between arms does not change.
import { createLatencyHistogram, recordMs, summarize } from "../../measure/histogram.ts";
import { countError, type ErrorCounts } from "../load-errors.ts";
import type { OpenLoopHistograms, OpenLoopResult, OpenLoopSummary } from "../open-loop.ts";
import { armOfUrl, type VegetaRoundPlan } from "./vegeta-targets.ts";
import { timestampDiffNs, vegetaErrorKind, type VegetaResult } from "./vegeta-results.ts";

export interface VegetaRoundSettings {
  ratePerSec: number;
  seed: number;
  maxConnections: number;
  timeoutMs: number;
  slotMs: number;
  slotOrder: number[];
  armCount: number;
  rateShortfallThresholdPct: number;
}

interface ArmTally {
  histograms: OpenLoopHistograms;
  errors: ErrorCounts;
  scheduled: number;
  sent: number;
  completed: number;
  ok: number;
  /** Pacing error of the arm's last sent request (highest seq), ns. */
  lastSentSeq: number;
  lastSentLagNs: number;
}

export function roundResultsOf(plan: VegetaRoundPlan, results: VegetaResult[], settings: VegetaRoundSettings): OpenLoopResult[] {
  const { intervalNs } = plan;
  const tallies: ArmTally[] = Array.from({ length: settings.armCount }, (_, arm) => ({
    histograms: { latency: createLatencyHistogram(), serviceTime: createLatencyHistogram(), pacingError: createLatencyHistogram(), clientQueue: createLatencyHistogram() },
    errors: {},
    scheduled: plan.armOf.filter((a) => a === arm).length,
    sent: 0,
    completed: 0,
    ok: 0,
    lastSentSeq: -1,
    lastSentLagNs: 0,
  }));
  // Only the planned requests: the hit that found the list exhausted has no URL and sent nothing.
  const planned = results.filter((r) => r.seq < plan.requestCount && armOfUrl(r.url, settings.armCount) !== null);
  const first = planned.reduce<VegetaResult | null>((a, r) => (a === null || timestampDiffNs(r.timestamp, a.timestamp) < 0 ? r : a), null);
  // ns since the earliest result's timestamp; t0 as described above.
  const sinceFirstNs = (r: VegetaResult) => (first ? timestampDiffNs(r.timestamp, first.timestamp) : 0);
  const t0Ns = planned.reduce((min, r) => Math.min(min, sinceFirstNs(r) - r.seq * intervalNs), Number.POSITIVE_INFINITY);
  let lastSettledNs = 0;
  for (const result of planned) {
    const tally = tallies[armOfUrl(result.url, settings.armCount)!]!;
    const pacingErrorNs = sinceFirstNs(result) - t0Ns - result.seq * intervalNs;
    tally.sent++;
    recordMs(tally.histograms.pacingError, pacingErrorNs / 1e6);
    if (result.seq > tally.lastSentSeq) {
      tally.lastSentSeq = result.seq;
      tally.lastSentLagNs = pacingErrorNs;
    }
    lastSettledNs = Math.max(lastSettledNs, sinceFirstNs(result) - t0Ns + result.latencyNs);
    if (result.code > 0) tally.completed++;
    const errorKind = vegetaErrorKind(result);
    if (errorKind !== null) {
      countError(tally.errors, errorKind);
      continue;
    }
    tally.ok++;
    recordMs(tally.histograms.serviceTime, result.latencyNs / 1e6);
    recordMs(tally.histograms.latency, (pacingErrorNs + result.latencyNs) / 1e6);
  }
  const startedAtMs = first ? first.timestamp.epochSec * 1000 + first.timestamp.nanos / 1e6 + t0Ns / 1e6 : Date.now();
  return tallies.map((tally, arm) =>
    summarizeArm(tally, {
      startedAt: new Date(startedAtMs).toISOString(),
      durationMs: first ? lastSettledNs / 1e6 : 0,
      activeMs: activeMsOf(arm, settings, plan.sendWindowMs),
      stoppedBy: plan.stoppedBy,
      settings,
    }),
  );
}

/** The part of the send window during which this arm's slots were open (as open-loop.ts). */
function activeMsOf(arm: number, settings: VegetaRoundSettings, sendWindowMs: number): number {
  const { slotMs, slotOrder } = settings;
  return slotOrder.reduce((sum, target, slot) => (target === arm ? sum + Math.max(0, Math.min((slot + 1) * slotMs, sendWindowMs) - slot * slotMs) : sum), 0);
}

/** The figures of open-loop.ts's summarizeTarget, from the same definitions. */
function summarizeArm(
  tally: ArmTally,
  context: { startedAt: string; durationMs: number; activeMs: number; stoppedBy: OpenLoopSummary["stoppedBy"]; settings: VegetaRoundSettings },
): OpenLoopResult {
  const { activeMs: sendWindowMs, settings } = context;
  const sendLagMs = Math.max(0, tally.lastSentLagNs / 1e6);
  const effectiveWindowMs = sendWindowMs + sendLagMs;
  const achievedRatePerSec = effectiveWindowMs > 0 ? (tally.ok / effectiveWindowMs) * 1000 : 0;
  const scheduledRatePerSec = sendWindowMs > 0 ? (tally.scheduled / sendWindowMs) * 1000 : 0;
  const rateShortfallPct = scheduledRatePerSec > 0 ? (1 - achievedRatePerSec / scheduledRatePerSec) * 100 : 0;
  const pacing = tally.histograms.pacingError;
  const summary: OpenLoopSummary = {
    kind: "open-loop",
    startedAt: context.startedAt,
    durationMs: context.durationMs,
    sendWindowMs,
    sendLagMs,
    stoppedBy: context.stoppedBy,
    arrival: "constant",
    seed: settings.seed,
    maxConnections: settings.maxConnections,
    timeoutMs: settings.timeoutMs,
    targetRatePerSec: settings.ratePerSec,
    scheduledRatePerSec,
    achievedRatePerSec,
    rateShortfallPct,
    rateShortfallThresholdPct: settings.rateShortfallThresholdPct,
    rateShortfall: rateShortfallPct > settings.rateShortfallThresholdPct,
    scheduled: tally.scheduled,
    sent: tally.sent,
    // Planned but without a result: vegeta stopped before sending it.
    unsent: tally.scheduled - tally.sent,
    completed: tally.completed,
    ok: tally.ok,
    errors: { ...tally.errors },
    pacingErrorUs: {
      p50: pacing.totalCount > 0 ? pacing.getValueAtPercentile(50) : Number.NaN,
      p99: pacing.totalCount > 0 ? pacing.getValueAtPercentile(99) : Number.NaN,
      max: pacing.totalCount > 0 ? pacing.maxValue : Number.NaN,
    },
    latencyUs: summarize(tally.histograms.latency),
    serviceTimeUs: summarize(tally.histograms.serviceTime),
    clientQueueUs: summarize(tally.histograms.clientQueue),
  };
  return { summary, histograms: tally.histograms };
}
