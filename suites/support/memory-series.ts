// A container's memory sampled over a window, and its trend: a least-squares slope and
// the growth from the first to the last quarter of the window (means of each, so a
// single garbage-collection swing does not decide a verdict).
import { performance } from "node:perf_hooks";
import type { ContainerStats, StartedPod } from "../../harness/runtime/pod-runtime.ts";
import { pause } from "./bounded-wait.ts";

const MIB = 1024 * 1024;

export interface MemorySample {
  /** ms since the first sample. */
  atMs: number;
  mib: number;
}

export interface MemorySeries {
  samples: MemorySample[];
  source: ContainerStats["source"] | "none";
}

/** Samples `container` every `intervalMs` until `until` settles (at most `maxSamples`). */
export async function sampleMemoryUntil(
  pod: StartedPod,
  container: string,
  until: Promise<unknown>,
  options: { intervalMs: number; maxSamples: number; signal?: AbortSignal },
): Promise<MemorySeries> {
  let done = false;
  void until.then(
    () => (done = true),
    () => (done = true),
  );
  const samples: MemorySample[] = [];
  let source: MemorySeries["source"] = "none";
  let firstMs: number | undefined;
  for (let i = 0; i < options.maxSamples && !done; i++) {
    try {
      const stats = await pod.stats(container);
      const nowMs = performance.now();
      firstMs ??= nowMs;
      source = stats.source;
      samples.push({ atMs: nowMs - firstMs, mib: stats.memoryBytes / MIB });
    } catch {
      // A container that is restarting has no figures for this instant.
    }
    await pause(options.intervalMs, options.signal);
  }
  return { samples, source };
}

/** Least-squares slope in MiB per minute; NaN with fewer than two samples. */
export function slopeMiBPerMin(samples: readonly MemorySample[]): number {
  if (samples.length < 2) return Number.NaN;
  const n = samples.length;
  const meanT = samples.reduce((s, p) => s + p.atMs, 0) / n;
  const meanM = samples.reduce((s, p) => s + p.mib, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of samples) {
    num += (p.atMs - meanT) * (p.mib - meanM);
    den += (p.atMs - meanT) ** 2;
  }
  return den > 0 ? (num / den) * 60_000 : Number.NaN;
}

/** Mean of the samples in the first and in the last quarter of the sampled time span. */
export function quarterMeans(samples: readonly MemorySample[]): { firstMiB: number; lastMiB: number } {
  const spanMs = samples.length > 0 ? samples[samples.length - 1]!.atMs : 0;
  const mean = (points: readonly MemorySample[]) => (points.length > 0 ? points.reduce((s, p) => s + p.mib, 0) / points.length : Number.NaN);
  return {
    firstMiB: mean(samples.filter((p) => p.atMs <= spanMs / 4)),
    lastMiB: mean(samples.filter((p) => p.atMs >= (spanMs * 3) / 4)),
  };
}

/** At most `maxPoints` samples, evenly spaced, rounded: evidence that stays readable. */
export function thinSamples(samples: readonly MemorySample[], maxPoints = 40): Array<[number, number]> {
  const step = Math.max(1, Math.ceil(samples.length / maxPoints));
  return samples.filter((_, i) => i % step === 0 || i === samples.length - 1).map((p) => [Math.round(p.atMs), roundTo(p.mib, 1)]);
}

export function roundTo(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
