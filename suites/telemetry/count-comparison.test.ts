// The pure logic of the telemetry checks: names matched across OTLP and Prometheus, counts
// compared per metric, label set and path, spans grouped and their copies counted.
import { describe, expect, it } from "vitest";
import type { MetricSeries, ReceivedSpan } from "../support/role-backend.ts";
import { compareCounts, describeProblems, excesses, shortBy, shortfallSummary, shortfalls, type Delivered, type DeliveredSeries, type LabelCount } from "./count-comparison.ts";
import { otlpSeries, promVectorSeries, spansByLabels } from "./delivered.ts";
import { normaliseMetricName, primaryMetricOf, promSampleMetric } from "./metric-names.ts";
import { counterSamples } from "./exposition-parses.ts";

const truth: LabelCount[] = [
  { model: "mlp", status: "200", count: 160 },
  { model: "no-such-model", status: "404", count: 20 },
];

const series = (metric: DeliveredSeries["metric"], model: string, status: string, value: number, source = "otlp"): DeliveredSeries => ({
  metric,
  name: metric === "requests" ? "kserve.requests" : "kserve.request.duration",
  model,
  status,
  value,
  source,
});

const whole = (): DeliveredSeries[] => truth.flatMap((t) => [series("requests", t.model, t.status, t.count), series("duration", t.model, t.status, t.count)]);

describe("metric names", () => {
  it("match the primary's metrics however a pipeline renamed them", () => {
    for (const name of ["kserve.requests", "kserve_requests_total", "kserve_requests", "otel_kserve_requests_total", "KSERVE.REQUESTS"]) expect(primaryMetricOf(name), name).toBe("requests");
    for (const name of ["kserve.request.duration", "kserve_request_duration_seconds", "ns_kserve_request_duration_seconds"]) expect(primaryMetricOf(name), name).toBe("duration");
    for (const name of ["kserve_requests_in_flight", "telemetry_relay_scrapes_total", "up", "xkserve_requests_total"]) expect(primaryMetricOf(name), name).toBeUndefined();
    expect(normaliseMetricName("kserve.request.duration")).toBe("kserve_request_duration");
  });

  it("take a Prometheus counter's sample and a histogram's _count, not its buckets or sum", () => {
    expect(promSampleMetric("kserve_requests_total")).toBe("requests");
    expect(promSampleMetric("kserve_request_duration_seconds_count")).toBe("duration");
    expect(promSampleMetric("kserve_request_duration_seconds_bucket")).toBeUndefined();
    expect(promSampleMetric("kserve_request_duration_seconds_sum")).toBeUndefined();
    expect(promSampleMetric("kserve_requests_created")).toBeUndefined();
    expect(promSampleMetric("kserve_requests_count")).toBeUndefined();
  });

  it("find the counter's samples in an exposition", () => {
    const text = ['# HELP kserve_requests Counted.', '# TYPE kserve_requests counter', 'kserve_requests_total{model="mlp",status="200"} 3.0', "kserve_requests_created 1.7e9", "up 1"].join("\n");
    expect(counterSamples(text)).toEqual(['kserve_requests_total{model="mlp",status="200"} 3.0']);
  });
});

describe("compareCounts", () => {
  it("passes exactly the primary's counts", () => {
    const result = compareCounts(truth, { series: whole() });
    expect(result.problems).toEqual([]);
    expect(result.matched).toBe(4);
    expect(result.compared).toBe(4);
  });

  it("names a missing label set, a lower and a higher count", () => {
    const delivered: Delivered = {
      series: [series("requests", "mlp", "200", 150), series("duration", "mlp", "200", 161), series("duration", "no-such-model", "404", 20)],
    };
    const { problems } = compareCounts(truth, delivered);
    expect(problems).toEqual([
      { what: "requests", model: "mlp", status: "200", expected: 160, found: 150, kind: "lower", source: "otlp" },
      { what: "requests", model: "no-such-model", status: "404", expected: 20, found: null, kind: "missing" },
      { what: "duration", model: "mlp", status: "200", expected: 160, found: 161, kind: "higher", source: "otlp" },
    ]);
    expect(shortfalls(problems)).toHaveLength(2);
    expect(excesses(problems)).toHaveLength(1);
    expect(shortBy(problems)).toBe(30);
    expect(shortfallSummary(problems)).toBe("kserve.requests (counter) short by 30");
    expect(describeProblems(problems, 1)).toBe('kserve.requests (counter) {model="mlp", status="200"}: expected 160, found 150 (otlp); and 2 more');
  });

  it("holds every path's series to the full count: a second path that is behind is short", () => {
    const delivered: Delivered = { series: [...whole(), series("requests", "mlp", "200", 120, "prometheus scrape")] };
    const { problems } = compareCounts(truth, delivered);
    expect(problems).toEqual([{ what: "requests", model: "mlp", status: "200", expected: 160, found: 120, kind: "lower", source: "prometheus scrape" }]);
  });

  it("with anyPath, judges each label set by its fullest path (a pulled path's stale count is not a loss)", () => {
    const delivered: Delivered = { series: [...whole(), series("requests", "mlp", "200", 120, "prometheus scrape")] };
    expect(compareCounts(truth, delivered, { anyPath: true }).problems).toEqual([]);
    const behind: Delivered = { series: [series("requests", "mlp", "200", 150), series("requests", "mlp", "200", 120, "scrape")] };
    expect(compareCounts(truth, behind, { anyPath: true, metrics: ["requests"] }).problems).toEqual([
      { what: "requests", model: "mlp", status: "200", expected: 160, found: 150, kind: "lower", source: "otlp" },
      { what: "requests", model: "no-such-model", status: "404", expected: 20, found: null, kind: "missing" },
    ]);
  });

  it("counts a label set the primary never counted as invented", () => {
    const delivered: Delivered = { series: [...whole(), series("requests", "mlp", "500", 3)] };
    expect(excesses(compareCounts(truth, delivered).problems)).toEqual([{ what: "requests", model: "mlp", status: "500", expected: 0, found: 3, kind: "higher", source: "otlp" }]);
  });

  it("compares spans per label set when they are forwarded", () => {
    const delivered: Delivered = {
      series: whole(),
      spans: { byLabels: [{ model: "mlp", status: "200", count: 320 }], total: 320, duplicateCopies: 160, otherSpans: 0 },
    };
    const { problems } = compareCounts(truth, delivered);
    expect(problems).toEqual([
      { what: "spans", model: "mlp", status: "200", expected: 160, found: 320, kind: "higher" },
      { what: "spans", model: "no-such-model", status: "404", expected: 20, found: null, kind: "missing" },
    ]);
  });
});

describe("reading what arrived", () => {
  const raw = (over: Partial<MetricSeries>): MetricSeries => ({
    name: "kserve.requests",
    unit: "",
    kind: "sum",
    temporality: "cumulative",
    monotonic: true,
    resource: { "service.name": "fastapi-kserve" },
    scope: { name: "kserve_primary", version: "", attributes: {} },
    attributes: { model: "mlp", status: "200" },
    value: 5,
    points: 1,
    firstMs: 0,
    lastMs: 0,
    startTimeMs: null,
    resets: 0,
    ...over,
  });

  it("takes an OTLP counter's value and a histogram's count, skipping other kinds and names", () => {
    const delivered = otlpSeries([
      raw({}),
      raw({ name: "kserve.request.duration", kind: "histogram", value: 5 }),
      raw({ name: "kserve.request.duration", kind: "sum", value: 0.3 }),
      raw({ name: "otelcol_exporter_sent", value: 9 }),
      raw({ value: null }),
    ]);
    expect(delivered.map((d) => [d.metric, d.value])).toEqual([
      ["requests", 5],
      ["duration", 5],
    ]);
    expect(delivered[0]!.source).toBe("otlp kserve.requests from fastapi-kserve / kserve_primary");
  });

  it("groups spans by their label attributes and counts copies of a span id", () => {
    const span = (spanId: string, status: number, attributes: Record<string, unknown> = {}): ReceivedSpan => ({
      index: 0,
      traceId: "t",
      spanId,
      parentSpanId: "",
      name: "POST",
      kind: 2,
      startMs: 0,
      endMs: 0,
      attributes: { "kserve.model": "mlp", "http.response.status_code": status, ...attributes },
      resource: {},
      receivedMs: 0,
    });
    const grouped = spansByLabels([span("a", 200), span("a", 200), span("b", 404), { ...span("c", 200), attributes: { "http.request.method": "GET" } }]);
    expect(grouped.byLabels).toEqual([
      { model: "mlp", status: "200", count: 2 },
      { model: "mlp", status: "404", count: 1 },
    ]);
    expect(grouped.duplicateCopies).toBe(1);
    expect(grouped.otherSpans).toBe(1);
    expect(grouped.total).toBe(4);
  });

  it("reads Prometheus' latest samples, an absent label as empty, the other labels as the path", () => {
    const delivered = promVectorSeries({
      status: "success",
      data: {
        resultType: "vector",
        result: [
          { metric: { __name__: "kserve_requests_total", model: "mlp", status: "200", job: "sidecar", instance: "h:1" }, value: [1, "7"] },
          { metric: { __name__: "kserve_request_duration_seconds_count", status: "404", job: "sidecar" }, value: [1, "2"] },
          { metric: { __name__: "kserve_request_duration_seconds_bucket", model: "mlp", status: "200", le: "+Inf" }, value: [1, "7"] },
        ],
      },
    });
    expect(delivered).toEqual([
      { metric: "requests", name: "kserve_requests_total", model: "mlp", status: "200", value: 7, source: 'prometheus kserve_requests_total{instance="h:1",job="sidecar"}' },
      { metric: "duration", name: "kserve_request_duration_seconds_count", model: "", status: "404", value: 2, source: 'prometheus kserve_request_duration_seconds_count{job="sidecar"}' },
    ]);
    expect(() => promVectorSeries({ status: "error", error: "bad query" })).toThrow(/bad query/);
  });
});
