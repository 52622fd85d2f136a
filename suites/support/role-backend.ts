// The reference backend of the telemetry, logs and secrets roles (reference/backends/role-backend):
// a fixture the sidecar under test exports to. The checks read from its control port what
// arrived and when, take its listeners down, up or slow, and rotate secrets through its
// Vault-compatible port with a real KV v2 write.
import { request } from "undici";
import { assertLoadTarget } from "../../harness/load/target-guard.ts";

export type BackendService = "otlp" | "syslog" | "vault";
export type ListenerState = "up" | "down" | "slow";
export type Attributes = Record<string, unknown>;

export interface ListenerInfo {
  port: number;
  state: ListenerState;
  delayMs: number;
  /** Bumped by every `down`. */
  generation: number;
}

export interface BackendHealth {
  pid: number;
  /**
   * SIGTERM received: the data listeners are closed, nothing more arrives, and the control
   * port answers while it is read (reference/backends/README.md): what it shows now is final.
   */
  stopping: boolean;
  listeners: Record<BackendService | "control", ListenerInfo>;
}

export interface MetricSeries {
  name: string;
  unit: string;
  kind: "sum" | "gauge" | "histogram" | "exponential_histogram" | "summary";
  temporality: "cumulative" | "delta" | "unspecified" | null;
  monotonic: boolean | null;
  resource: Attributes;
  scope: { name: string; version: string; attributes: Attributes };
  attributes: Attributes;
  /** Newest cumulative value, or the sum of the deltas; for histograms and summaries the count. */
  value: number | null;
  /** Datapoints received for this series (duplicates included). */
  points: number;
  /** Wall-clock ms of the first and last datapoint's arrival. */
  firstMs: number;
  lastMs: number;
  startTimeMs: number | null;
  /** Cumulative restarts seen (start time moved forward). */
  resets: number;
  sum?: number | null;
  bucketCounts?: number[] | null;
  explicitBounds?: number[] | null;
}

export interface OtlpRequestCounts {
  requests: number;
  rejected: number;
  protobuf: number;
  json: number;
  gzip: number;
  /** Datapoints, spans or log records accepted. */
  items: number;
}

export interface MetricsSnapshot {
  series: MetricSeries[];
  /** Datapoints not kept because the series bound was reached. */
  droppedPoints: number;
  requests: OtlpRequestCounts;
}

export interface ReceivedSpan {
  index: number;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Attributes;
  resource: Attributes;
  receivedMs: number;
}

export interface SpansPage {
  spans: ReceivedSpan[];
  next: number;
  total: number;
  /** Spans not kept because the bound was reached (the backend's loss, not the sidecar's). */
  dropped: number;
}

export interface ReceivedLogRecord {
  index: number;
  via: "syslog" | "otlp";
  /** The message exactly as it arrived (syslog header parsed off; OTLP: the string body). */
  message: string;
  receivedMs: number;
  syslog?: { framing: string; header: string; pri?: number; hostname?: string; app_name?: string };
  attributes?: Attributes;
  /** The connection closed in the middle of this frame. */
  partial: boolean;
  invalidUtf8: boolean;
}

export interface LogsPage {
  records: ReceivedLogRecord[];
  /** Pass as `from` for the next page; a page is complete when next === total. */
  next: number;
  total: number;
  /** Records not kept because a bound was reached (the backend's loss, not the sidecar's). */
  droppedRecords: number;
}

export interface VaultRead {
  atMs: number;
  path: string;
  kind: "data" | "metadata";
  /** The version served; null when nothing was found. */
  version: number | null;
  found: boolean;
}

export interface VaultReads {
  reads: VaultRead[];
  /** Every read since start (the list keeps the last 100 000). */
  count: number;
}

export interface RoleBackendOptions {
  /** Bound on each request to the backend. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const MAX_LOG_PAGES = 1_000;

export class RoleBackend {
  readonly controlUrl: URL;
  readonly vaultUrl: URL;
  private readonly timeoutMs: number;
  private readonly signal: AbortSignal | undefined;

  constructor(controlUrl: string, vaultUrl: string, options: RoleBackendOptions = {}) {
    this.controlUrl = assertLoadTarget(controlUrl);
    this.vaultUrl = assertLoadTarget(vaultUrl);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.signal = options.signal;
  }

  async health(): Promise<BackendHealth> {
    const body = await this.call<{ pid: number; stopping?: boolean; listeners: Record<string, RawListener> }>(this.controlUrl, "GET", "/healthz");
    const listeners = Object.fromEntries(Object.entries(body.listeners).map(([name, raw]) => [name, listenerInfo(raw)]));
    return { pid: body.pid, stopping: body.stopping === true, listeners: listeners as BackendHealth["listeners"] };
  }

  async metrics(): Promise<MetricsSnapshot> {
    const body = await this.call<{ series: RawSeries[]; dropped: { points: number }; requests: OtlpRequestCounts }>(this.controlUrl, "GET", "/otlp/metrics");
    return { series: body.series.map(seriesOf), droppedPoints: body.dropped.points, requests: body.requests };
  }

  async spans(from = 0): Promise<SpansPage> {
    const body = await this.call<{ spans: RawSpan[]; next: number; total: number; dropped: { spans: number } }>(this.controlUrl, "GET", `/otlp/traces?from=${from}`);
    return { spans: body.spans.map(spanOf), next: body.next, total: body.total, dropped: body.dropped.spans };
  }

  /** One page of log records in arrival order, starting at index `from`. */
  async logs(from = 0): Promise<LogsPage> {
    const body = await this.call<{ records: RawLogRecord[]; next: number; total: number; dropped: { records: number } }>(this.controlUrl, "GET", `/logs?from=${from}`);
    return { records: body.records.map(logRecordOf), next: body.next, total: body.total, droppedRecords: body.dropped.records };
  }

  /** Every log record from `from` on, paging until the last stored one (at most 1000 pages). */
  async allLogs(from = 0): Promise<ReceivedLogRecord[]> {
    const records: ReceivedLogRecord[] = [];
    let next = from;
    for (let page = 0; page < MAX_LOG_PAGES; page++) {
      const got = await this.logs(next);
      records.push(...got.records);
      if (got.next >= got.total || got.records.length === 0) return records;
      next = got.next;
    }
    throw new Error(`${this.controlUrl.origin}/logs: more than ${MAX_LOG_PAGES} pages from index ${from}`);
  }

  async syslogStats(): Promise<Record<string, number>> {
    return this.call<Record<string, number>>(this.controlUrl, "GET", "/syslog/stats");
  }

  /** `down`: listener closed, open connections reset; `up`: the same port again; `slow`: each request/read delayed. */
  async setState(service: BackendService, state: ListenerState, delayMs?: number): Promise<ListenerInfo> {
    if (state === "slow" && !(delayMs !== undefined && delayMs > 0)) throw new Error(`setState(${service}, slow): delayMs must be > 0, got ${delayMs}`);
    const query = state === "slow" ? `?delay_ms=${Math.round(delayMs!)}` : "";
    return listenerInfo(await this.call<RawListener>(this.controlUrl, "POST", `/control/${service}/${state}${query}`));
  }

  async vaultReads(): Promise<VaultReads> {
    const body = await this.call<{ reads: Array<{ at_ms: number; path: string; kind: "data" | "metadata"; version: number | null; found: boolean }>; count: number }>(
      this.controlUrl,
      "GET",
      "/vault/reads",
    );
    return { reads: body.reads.map((r) => ({ atMs: r.at_ms, path: r.path, kind: r.kind, version: r.version, found: r.found })), count: body.count };
  }

  /** A real KV v2 write (PUT /v1/secret/data/<path>) through the vault port; returns the new version. */
  async putSecret(path: string, data: Record<string, string>, token: string): Promise<{ version: number; createdTime: string }> {
    const body = await this.call<{ data: { version: number; created_time: string } }>(
      this.vaultUrl,
      "PUT",
      `/v1/secret/data/${path.replace(/^\/+/, "")}`,
      JSON.stringify({ data }),
      { "x-vault-token": token, "content-type": "application/json" },
    );
    return { version: body.data.version, createdTime: body.data.created_time };
  }

  private async call<T>(base: URL, method: "GET" | "POST" | "PUT", path: string, body?: string, headers: Record<string, string> = {}): Promise<T> {
    const url = new URL(path, base);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = this.signal ? AbortSignal.any([this.signal, timeout]) : timeout;
    let response;
    try {
      response = await request(url, { method, headers, signal, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs, ...(body !== undefined ? { body } : {}) });
    } catch (error) {
      // The path only: a token travels in headers, never in the message.
      throw new Error(`${method} ${url.origin}${url.pathname}: ${(error as Error).message}`);
    }
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`${method} ${url.origin}${url.pathname}: ${response.statusCode} ${text.slice(0, 300)}`);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new Error(`${method} ${url.origin}${url.pathname}: the answer is not JSON: ${text.slice(0, 300)}`);
    }
  }
}

/** The series named `name` whose attributes include every pair of `attributes`. */
export function matchingSeries(series: readonly MetricSeries[], name: string, attributes: Attributes = {}): MetricSeries[] {
  return series.filter((s) => s.name === name && Object.entries(attributes).every(([key, value]) => s.attributes[key] === value));
}

interface RawListener {
  port: number;
  state: ListenerState;
  delay_ms: number;
  generation: number;
}

interface RawSeries {
  name: string;
  unit: string;
  kind: MetricSeries["kind"];
  temporality: MetricSeries["temporality"];
  monotonic: boolean | null;
  resource: Attributes;
  scope: MetricSeries["scope"];
  attributes: Attributes;
  value: number | null;
  points: number;
  first_ms: number;
  last_ms: number;
  start_time_ms: number | null;
  resets: number;
  sum?: number | null;
  bucket_counts?: number[] | null;
  explicit_bounds?: number[] | null;
}

interface RawSpan {
  index: number;
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  name: string;
  kind: number;
  start_ms: number;
  end_ms: number;
  attributes: Attributes;
  resource: Attributes;
  received_ms: number;
}

interface RawLogRecord {
  index: number;
  via: "syslog" | "otlp";
  message: string;
  received_ms: number;
  syslog?: ReceivedLogRecord["syslog"];
  attributes?: Attributes;
  partial?: boolean;
  invalid_utf8?: boolean;
}

function listenerInfo(raw: RawListener): ListenerInfo {
  return { port: raw.port, state: raw.state, delayMs: raw.delay_ms, generation: raw.generation };
}

function seriesOf(raw: RawSeries): MetricSeries {
  return {
    name: raw.name,
    unit: raw.unit,
    kind: raw.kind,
    temporality: raw.temporality,
    monotonic: raw.monotonic,
    resource: raw.resource,
    scope: raw.scope,
    attributes: raw.attributes,
    value: raw.value,
    points: raw.points,
    firstMs: raw.first_ms,
    lastMs: raw.last_ms,
    startTimeMs: raw.start_time_ms,
    resets: raw.resets,
    ...(raw.sum !== undefined ? { sum: raw.sum } : {}),
    ...(raw.bucket_counts !== undefined ? { bucketCounts: raw.bucket_counts } : {}),
    ...(raw.explicit_bounds !== undefined ? { explicitBounds: raw.explicit_bounds } : {}),
  };
}

function spanOf(raw: RawSpan): ReceivedSpan {
  return {
    index: raw.index,
    traceId: raw.trace_id,
    spanId: raw.span_id,
    parentSpanId: raw.parent_span_id,
    name: raw.name,
    kind: raw.kind,
    startMs: raw.start_ms,
    endMs: raw.end_ms,
    attributes: raw.attributes,
    resource: raw.resource,
    receivedMs: raw.received_ms,
  };
}

function logRecordOf(raw: RawLogRecord): ReceivedLogRecord {
  return {
    index: raw.index,
    via: raw.via,
    message: raw.message,
    receivedMs: raw.received_ms,
    ...(raw.syslog ? { syslog: raw.syslog } : {}),
    ...(raw.attributes ? { attributes: raw.attributes } : {}),
    partial: raw.partial === true,
    invalidUtf8: raw.invalid_utf8 === true,
  };
}
