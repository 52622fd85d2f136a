// The primary's two metrics under the names a telemetry pipeline may give them. The primary
// exports `kserve.requests` (a counter) and `kserve.request.duration` (a histogram, unit s)
// over OTLP, and `kserve_requests_total` and `kserve_request_duration_seconds` in its
// Prometheus exposition; a collector's Prometheus receiver or exporter turns one into the
// other (dots to underscores, `_total` on monotonic sums, the unit as a suffix), and a
// Prometheus exporter may put a namespace in front (`otel_kserve_requests_total`).
// Normalised: lower case, every character outside [a-z0-9] an underscore, then a trailing
// `_total` and a trailing unit `_seconds` dropped; a name matches when its normalised form
// equals the metric's, or ends with `_` + it (a namespace prefix).

export type PrimaryMetric = "requests" | "duration";

/** The normalised names of the primary's metrics. */
export const PRIMARY_METRICS: Readonly<Record<PrimaryMetric, string>> = { requests: "kserve_requests", duration: "kserve_request_duration" };

/** What each metric's count per label set is called in evidence. */
export const METRIC_LABELS: Readonly<Record<PrimaryMetric, string>> = {
  requests: "kserve.requests (counter)",
  duration: "kserve.request.duration (histogram count)",
};

export function normaliseMetricName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "_")
    .replace(/_total$/, "")
    .replace(/_seconds$/, "");
}

/** Which of the primary's metrics a delivered metric name is, if any. */
export function primaryMetricOf(name: string): PrimaryMetric | undefined {
  const normalised = normaliseMetricName(name);
  for (const [metric, canonical] of Object.entries(PRIMARY_METRICS) as Array<[PrimaryMetric, string]>) {
    if (normalised === canonical || normalised.endsWith(`_${canonical}`)) return metric;
  }
  return undefined;
}

/**
 * A Prometheus sample name (`…_total`, `…_count`, `…_bucket`, …) → which metric's count it is:
 * the counter's own sample, or the histogram's `_count`; buckets, sums and `_created` are not counts.
 */
export function promSampleMetric(sampleName: string): PrimaryMetric | undefined {
  if (/_(bucket|sum|created)$/.test(sampleName)) return undefined;
  const count = sampleName.match(/^(.*)_count$/);
  if (count) return primaryMetricOf(count[1]!) === "duration" ? "duration" : undefined;
  const metric = primaryMetricOf(sampleName);
  return metric === "requests" ? metric : undefined;
}
