// Number formatting for the HTML report (the same wording as report.md).
import type { MetricAnalysis, NoiseFloor } from "../../measure/paired-analysis.ts";
import { formatUs } from "../markdown-writer.ts";
import type { Tone } from "./fragments.ts";

export { formatUs };

export const METRIC_LABEL: Record<string, string> = { p50: "p50", p90: "p90", p99: "p99", p99_9: "p99.9", throughputPerSec: "throughput" };

export function signedUs(us: number): string {
  return us > 0 ? `+${formatUs(us)}` : formatUs(us);
}

export function signedPercent(value: number): string {
  const text = Math.abs(value).toFixed(1);
  if (Number(text) === 0) return "0.0 %";
  return `${value < 0 ? "−" : "+"}${text} %`;
}

export function deltaText(m: MetricAnalysis | NoiseFloor): string {
  return m.unit === "us" ? signedUs(m.deltaMedian) : signedPercent(m.deltaMedianPercent);
}

export function ciText(m: MetricAnalysis | NoiseFloor): string {
  return m.unit === "us" ? `[${signedUs(m.ci95.low)}, ${signedUs(m.ci95.high)}]` : `[${signedPercent(m.ci95Percent.low)}, ${signedPercent(m.ci95Percent.high)}]`;
}

export function floorText(m: MetricAnalysis): string {
  if (m.noiseFloorHalfWidth <= 0) return "–";
  return m.unit === "us" ? `±${formatUs(m.noiseFloorHalfWidth)}` : `±${m.noiseFloorHalfWidth.toFixed(1)} %`;
}

export const VERDICT_TONE: Record<string, Tone> = {
  slower: "bad",
  faster: "good",
  "not-distinguishable": "neutral",
  within: "good",
  exceeded: "bad",
  inconclusive: "warn",
  pass: "good",
  fail: "bad",
};

export function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "–" : value.toFixed(digits);
}
