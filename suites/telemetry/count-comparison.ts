// What the primary counted against what reached the backend, per metric and label set
// {model, status}. The primary's own counts (GET /v2/debug/telemetry) are the truth; the
// backend may hold several series for one metric and label set — one per path through the
// sidecar (an OpenTelemetry Collector that takes OTLP and scrapes /metrics delivers two,
// under different resources or job labels) — and each must hold the primary's count: one
// that is short lost increments, one that is over invented or duplicated them. Series the
// sidecar adds of its own (other names, other label sets) are legitimate and ignored,
// except a label set of the primary's metrics that the primary never counted.
import { METRIC_LABELS, type PrimaryMetric } from "./metric-names.ts";

export interface LabelSet {
  model: string;
  status: string;
}

export interface LabelCount extends LabelSet {
  count: number;
}

/** One series of one of the primary's metrics as the backend holds it. */
export interface DeliveredSeries extends LabelSet {
  metric: PrimaryMetric;
  /** The name as delivered (kserve.requests, kserve_requests_total, …). */
  name: string;
  /** The count it holds: the newest cumulative value, the sum of deltas, a histogram's count. */
  value: number;
  /** Which path it came by (resource attributes, job/instance labels), for evidence. */
  source: string;
}

/** Spans of counted requests that arrived, per label set (span attributes kserve.model, http.response.status_code). */
export interface DeliveredSpans {
  byLabels: LabelCount[];
  total: number;
  /** Span ids that arrived more than once, and how many extra copies. */
  duplicateCopies: number;
  /** Spans without the primary's label attributes (the sidecar's own, say): ignored. */
  otherSpans: number;
}

export interface Delivered {
  series: DeliveredSeries[];
  /** Present when the sidecar forwards traces. */
  spans?: DeliveredSpans;
}

export type CountKind = "missing" | "lower" | "higher";

export interface CountProblem extends LabelSet {
  /** A metric, or "spans". */
  what: PrimaryMetric | "spans";
  expected: number;
  /** null: no series (or no span) for this label set at all. */
  found: number | null;
  kind: CountKind;
  source?: string;
}

export interface CountComparison {
  problems: CountProblem[];
  /** Series, and span label sets, that hold exactly the primary's count. */
  matched: number;
  /** What was compared: label sets × metrics (+ span label sets). */
  compared: number;
}

export const labelKey = (labels: LabelSet): string => JSON.stringify([labels.model, labels.status]);
export const describeLabels = (labels: LabelSet): string => `{model="${labels.model}", status="${labels.status}"}`;

export interface CompareOptions {
  metrics?: readonly PrimaryMetric[];
  /**
   * Judge each metric and label set by its fullest path only: the counts reached the backend
   * if one path carried them. For a pod's last moments, when a pulled path (a collector's
   * scrape of /metrics) cannot have seen the primary's last counts, by design.
   */
  anyPath?: boolean;
}

export function compareCounts(truth: readonly LabelCount[], delivered: Delivered, options: CompareOptions = {}): CountComparison {
  const metrics = options.metrics ?? ["requests", "duration"];
  const problems: CountProblem[] = [];
  let matched = 0;
  let compared = 0;
  const expectedOf = new Map(truth.map((t) => [labelKey(t), t.count]));
  const kindOf = (expected: number, found: number): CountKind => (found < expected ? "lower" : "higher");
  for (const metric of metrics) {
    const series = delivered.series.filter((s) => s.metric === metric);
    for (const labels of truth) {
      compared++;
      const all = series.filter((s) => labelKey(s) === labelKey(labels));
      const mine = options.anyPath && all.length > 1 ? [all.reduce((a, b) => (b.value > a.value ? b : a))] : all;
      if (mine.length === 0) {
        problems.push({ what: metric, model: labels.model, status: labels.status, expected: labels.count, found: null, kind: "missing" });
        continue;
      }
      for (const s of mine) {
        if (s.value === labels.count) matched++;
        else problems.push({ what: metric, model: labels.model, status: labels.status, expected: labels.count, found: s.value, kind: kindOf(labels.count, s.value), source: s.source });
      }
    }
    // A label set the primary never counted, with counts: invented.
    for (const s of series) {
      if (!expectedOf.has(labelKey(s)) && s.value !== 0) {
        problems.push({ what: metric, model: s.model, status: s.status, expected: 0, found: s.value, kind: "higher", source: s.source });
      }
    }
  }
  if (delivered.spans) {
    const found = new Map(delivered.spans.byLabels.map((s) => [labelKey(s), s.count]));
    for (const labels of truth) {
      compared++;
      const count = found.get(labelKey(labels));
      if (count === labels.count) matched++;
      else problems.push({ what: "spans", model: labels.model, status: labels.status, expected: labels.count, found: count ?? null, kind: count === undefined ? "missing" : kindOf(labels.count, count) });
    }
    for (const s of delivered.spans.byLabels) {
      if (!expectedOf.has(labelKey(s))) problems.push({ what: "spans", model: s.model, status: s.status, expected: 0, found: s.count, kind: "higher" });
    }
  }
  return { problems, matched, compared };
}

/** Problems where less arrived than the primary counted. */
export function shortfalls(problems: readonly CountProblem[]): CountProblem[] {
  return problems.filter((p) => p.kind !== "higher");
}

/** Problems where more arrived than the primary counted (duplicates, invented counts). */
export function excesses(problems: readonly CountProblem[]): CountProblem[] {
  return problems.filter((p) => p.kind === "higher");
}

/** How many counts a set of problems is short by (missing counts whole). */
export function shortBy(problems: readonly CountProblem[]): number {
  return shortfalls(problems).reduce((sum, p) => sum + p.expected - (p.found ?? 0), 0);
}

/** "kserve.requests (counter) short by 69, spans short by 48": the shortfall per metric and spans. */
export function shortfallSummary(problems: readonly CountProblem[]): string {
  const by = new Map<string, number>();
  for (const p of shortfalls(problems)) {
    const what = p.what === "spans" ? "spans" : METRIC_LABELS[p.what];
    by.set(what, (by.get(what) ?? 0) + p.expected - (p.found ?? 0));
  }
  return [...by.entries()].map(([what, n]) => `${what} short by ${n}`).join(", ");
}

/** "spans {model="mlp", status="200"}: expected 180, found 90" — the first `max`, then how many more. */
export function describeProblems(problems: readonly CountProblem[], max = 4): string {
  const line = (p: CountProblem) => {
    const what = p.what === "spans" ? "spans" : METRIC_LABELS[p.what];
    const found = p.found === null ? "nothing arrived" : `found ${p.found}`;
    return `${what} ${describeLabels(p)}: expected ${p.expected}, ${found}${p.source ? ` (${p.source})` : ""}`;
  };
  const shown = problems.slice(0, max).map(line);
  return problems.length > max ? `${shown.join("; ")}; and ${problems.length - max} more` : shown.join("; ");
}

/** Truth as a total and per label set, for evidence. */
export function describeTruth(truth: readonly LabelCount[]): string {
  return truth.map((t) => `${describeLabels(t)} ${t.count}`).join(", ");
}
