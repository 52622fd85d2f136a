// What reached the backend, read the way the sidecar's export makes it readable: the
// reference backend's control API for otlp-http (series as received, spans in arrival
// order), Prometheus' HTTP API on `metrics-backend` for an exposition it scrapes or for
// remote-write (the latest sample of each series). Both become the same Delivered shape.
import { request } from "undici";
import type { ConformanceContext } from "../../harness/conformance/conformance-test.ts";
import { assertLoadTarget } from "../../harness/load/target-guard.ts";
import type { StartedPod } from "../../harness/runtime/pod-runtime.ts";
import { BACKEND_CONTAINER, METRICS_BACKEND_CONTAINER } from "../../harness/scenario/role-wiring.ts";
import { RoleBackend, type MetricSeries, type ReceivedSpan } from "../support/role-backend.ts";
import { labelKey, type Delivered, type DeliveredSeries, type DeliveredSpans, type LabelCount } from "./count-comparison.ts";
import { primaryMetricOf, promSampleMetric } from "./metric-names.ts";

/** Bound of the span pages read at once (the backend pages 1000 records). */
const MAX_SPAN_PAGES = 500;
/** Every series whose name holds the primary's metrics', whatever prefix or suffix a pipeline gave it. */
const PROMETHEUS_SELECTOR = '{__name__=~".*kserve[._]request.*"}';

export type TelemetryExport = "otlp-http" | "exposition" | "remote-write";

export function exportOf(context: ConformanceContext): TelemetryExport {
  const telemetry = context.sidecar.manifest.spec.telemetry;
  if (!telemetry) throw new Error(`${context.sidecar.manifest.metadata.name}: spec.telemetry is missing (the telemetry role needs it)`);
  return telemetry.export;
}

/** Whether the sidecar forwards the primary's spans (OTLP in and out, traces among its signals). */
export function forwardsTraces(context: ConformanceContext): boolean {
  const telemetry = context.sidecar.manifest.spec.telemetry;
  return telemetry !== undefined && telemetry.export === "otlp-http" && telemetry.ingest.includes("otlp-http") && telemetry.signals.includes("traces");
}

export function roleBackend(context: ConformanceContext, pod: StartedPod, timeoutMs = 5_000): RoleBackend {
  return new RoleBackend(pod.url(BACKEND_CONTAINER, "control"), pod.url(BACKEND_CONTAINER, "vault"), { timeoutMs, signal: context.signal });
}

/** What the backend the sidecar exports to holds now. */
export async function readDelivered(context: ConformanceContext, pod: StartedPod): Promise<Delivered> {
  if (exportOf(context) === "otlp-http") {
    const backend = roleBackend(context, pod);
    const [metrics, spans] = await Promise.all([backend.metrics(), forwardsTraces(context) ? readAllSpans(backend) : Promise.resolve(undefined)]);
    return { series: otlpSeries(metrics.series), ...(spans ? { spans: spansByLabels(spans) } : {}) };
  }
  return { series: await prometheusSeries(context, pod) };
}

/** The OTLP series that are the primary's metrics: a counter's value, a histogram's count. */
export function otlpSeries(series: readonly MetricSeries[]): DeliveredSeries[] {
  const delivered: DeliveredSeries[] = [];
  for (const s of series) {
    const metric = primaryMetricOf(s.name);
    if (metric === undefined || s.value === null) continue;
    const countKind = metric === "requests" ? s.kind === "sum" || s.kind === "gauge" : s.kind === "histogram" || s.kind === "exponential_histogram" || s.kind === "summary";
    if (!countKind) continue;
    delivered.push({ metric, name: s.name, model: stringAttr(s.attributes["model"]), status: stringAttr(s.attributes["status"]), value: s.value, source: otlpSource(s) });
  }
  return delivered;
}

function otlpSource(series: MetricSeries): string {
  const resource = series.resource;
  const parts = [resource["service.name"], resource["service.instance.id"], series.scope.name].filter((p) => p !== undefined && p !== "");
  return `otlp ${series.name}${parts.length > 0 ? ` from ${parts.join(" / ")}` : ""}`;
}

function stringAttr(value: unknown): string {
  return value === undefined || value === null ? "" : String(value);
}

async function readAllSpans(backend: RoleBackend): Promise<ReceivedSpan[]> {
  const spans: ReceivedSpan[] = [];
  let from = 0;
  for (let page = 0; page < MAX_SPAN_PAGES; page++) {
    const got = await backend.spans(from);
    spans.push(...got.spans);
    if (got.next >= got.total || got.spans.length === 0) return spans;
    from = got.next;
  }
  throw new Error(`the backend holds more than ${MAX_SPAN_PAGES} pages of spans`);
}

/** Spans of counted requests per label set (kserve.model, http.response.status_code); copies of one span id counted. */
export function spansByLabels(spans: readonly ReceivedSpan[]): DeliveredSpans {
  const counts = new Map<string, LabelCount>();
  const seen = new Set<string>();
  let duplicateCopies = 0;
  let otherSpans = 0;
  for (const span of spans) {
    const id = `${span.traceId}/${span.spanId}`;
    if (seen.has(id)) duplicateCopies++;
    seen.add(id);
    const model = span.attributes["kserve.model"];
    const status = span.attributes["http.response.status_code"];
    if (model === undefined || status === undefined) {
      otherSpans++;
      continue;
    }
    const labels = { model: String(model), status: String(status) };
    const entry = counts.get(labelKey(labels)) ?? { ...labels, count: 0 };
    entry.count++;
    counts.set(labelKey(labels), entry);
  }
  return { byLabels: [...counts.values()], total: spans.length, duplicateCopies, otherSpans };
}

interface PromVector {
  status: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  error?: string;
}

/** The latest sample of every series of the primary's metrics in Prometheus (an absent label is ""). */
export async function prometheusSeries(context: ConformanceContext, pod: StartedPod): Promise<DeliveredSeries[]> {
  const base = assertLoadTarget(pod.url(METRICS_BACKEND_CONTAINER, "web"));
  const url = new URL(`/api/v1/query?query=${encodeURIComponent(PROMETHEUS_SELECTOR)}`, base);
  const response = await request(url, { signal: AbortSignal.any([context.signal, AbortSignal.timeout(5_000)]), headersTimeout: 5_000, bodyTimeout: 5_000 });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`GET ${url.origin}/api/v1/query: ${response.statusCode} ${text.slice(0, 300)}`);
  return promVectorSeries(JSON.parse(text) as PromVector);
}

export function promVectorSeries(answer: PromVector): DeliveredSeries[] {
  if (answer.status !== "success" || answer.data?.resultType !== "vector") throw new Error(`Prometheus answered ${answer.status}: ${answer.error ?? answer.data?.resultType}`);
  const delivered: DeliveredSeries[] = [];
  for (const { metric: labels, value } of answer.data.result) {
    const name = labels["__name__"] ?? "";
    const metric = promSampleMetric(name);
    if (metric === undefined) continue;
    const others = Object.entries(labels)
      .filter(([key]) => !["__name__", "model", "status"].includes(key))
      .map(([key, v]) => `${key}="${v}"`)
      .sort();
    delivered.push({ metric, name, model: labels["model"] ?? "", status: labels["status"] ?? "", value: Number(value[1]), source: `prometheus ${name}{${others.join(",")}}` });
  }
  return delivered;
}
