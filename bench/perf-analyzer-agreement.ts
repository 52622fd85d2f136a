// Do two tools' latencies agree? Each measured the same target in the same rounds; a single
// round's p99 moves by tens of percent on a shared machine, so a difference between the
// tools' medians means something only beyond what either tool sees from round to round.
// The verdict: the medians differ by no more than the larger of the two tools' round-to-round
// spreads (max − min) → "agree within noise"; otherwise "differ", with the spread shown.
import { median } from "../harness/measure/statistics.ts";

export const TOOLS = ["perf_analyzer", "sidecar-bench"] as const;
export type Tool = (typeof TOOLS)[number];

export interface Measured {
  target: string;
  tool: Tool;
  round: number;
  ratePerSec: number;
  p50Us: number;
  p99Us: number;
  /** Ours only: from the scheduled send. */
  latencyP50Us?: number;
  latencyP99Us?: number;
}

export interface Agreement {
  /** Median over rounds of each tool's figure. */
  theirsUs: number;
  oursUs: number;
  /** (ours − theirs) / theirs. */
  differenceFraction: number;
  /** The larger of the two tools' max − min over rounds. */
  spreadUs: number;
  agree: boolean;
}

export function agreement(theirs: number[], ours: number[]): Agreement {
  if (theirs.length === 0 || ours.length === 0) throw new Error("agreement needs at least one round from each tool");
  const theirsUs = median(theirs);
  const oursUs = median(ours);
  const range = (list: number[]) => Math.max(...list) - Math.min(...list);
  const spreadUs = Math.max(range(theirs), range(ours));
  return { theirsUs, oursUs, differenceFraction: (oursUs - theirsUs) / theirsUs, spreadUs, agree: Math.abs(oursUs - theirsUs) <= spreadUs };
}

/** What each tool measured at one target, per metric, over its rounds. */
export function figures(measured: Measured[], target: string, tool: Tool, pick: (m: Measured) => number): number[] {
  return measured.filter((m) => m.target === target && m.tool === tool).map(pick);
}

/**
 * The sidecar's cost as each tool sees it: per round, target − baseline by that tool; the
 * median over rounds. Rounds where a tool lacks either target are skipped.
 */
export function addedByTool(measured: Measured[], baseline: string, target: string, tool: Tool, pick: (m: Measured) => number): number | null {
  const deltas: number[] = [];
  for (const round of new Set(measured.map((m) => m.round))) {
    const at = (name: string) => measured.find((m) => m.round === round && m.target === name && m.tool === tool);
    const a = at(baseline);
    const b = at(target);
    if (a && b) deltas.push(pick(b) - pick(a));
  }
  return deltas.length > 0 ? median(deltas) : null;
}
