// What the logs checks drive in a pod, through pod.url() only (no host paths, so the same on
// every runtime): the primary's log endpoints (GET /v2/debug/log, POST …/burst, …/rotate),
// requests whose lines the primary writes, and the backend's record of what arrived.
import { performance } from "node:perf_hooks";
import { Pool, request } from "undici";
import type { ConformanceContext } from "../../harness/conformance/conformance-test.ts";
import { assertLoadTarget } from "../../harness/load/target-guard.ts";
import type { StartedPod } from "../../harness/runtime/pod-runtime.ts";
import { PRIMARY_CONTAINER, PRIMARY_HTTP_PORT } from "../../harness/scenario/index.ts";
import { BACKEND_CONTAINER } from "../../harness/scenario/role-wiring.ts";
import { pause } from "../support/bounded-wait.ts";
import { inferRequest } from "../support/reference-requests.ts";
import { RoleBackend, type BackendService, type ReceivedLogRecord } from "../support/role-backend.ts";
import type { Burst, SentRequest } from "./expected-lines.ts";
import { parseArrivals, type Arrivals } from "./line-analysis.ts";

const CALL_TIMEOUT_MS = 10_000;

export interface LogState {
  file: string | null;
  run: string;
  /** The seq of the last line written before this answer (the asking request's own line comes after). */
  lastSeq: number;
  rotations: number;
}

export interface BurstRequest {
  lines: number;
  msg: string;
  padBytes?: number;
  gapMs?: number;
}

/** The primary's log endpoints (contracts: reference/primaries/fastapi-kserve/README.md). */
export class PrimaryLog {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly signal: AbortSignal,
  ) {
    this.baseUrl = assertLoadTarget(baseUrl).origin;
  }

  static of(pod: StartedPod, signal: AbortSignal): PrimaryLog {
    return new PrimaryLog(pod.url(PRIMARY_CONTAINER, PRIMARY_HTTP_PORT), signal);
  }

  async state(): Promise<LogState> {
    const body = await this.call<{ file: string | null; run: string | null; last_seq: number; rotations: number }>("GET", "/v2/debug/log");
    if (!body.run) throw new Error(`GET ${this.baseUrl}/v2/debug/log: "run" is ${JSON.stringify(body.run)}: the primary has no PRIMARY_RUN_ID (role wiring)`);
    if (!body.file) throw new Error(`GET ${this.baseUrl}/v2/debug/log: "file" is null: the primary writes its access log to stdout, not PRIMARY_ACCESS_LOG_FILE (role wiring)`);
    return { file: body.file, run: body.run, lastSeq: body.last_seq, rotations: body.rotations };
  }

  /** Writes the lines, answering once the last is written; `timeoutMs` must cover lines × gapMs. */
  async burst(spec: BurstRequest, timeoutMs = CALL_TIMEOUT_MS): Promise<Burst> {
    const padBytes = spec.padBytes ?? 0;
    const body = await this.call<{ first_seq: number; last_seq: number }>(
      "POST",
      "/v2/debug/log/burst",
      { lines: spec.lines, msg: spec.msg, pad_bytes: padBytes, gap_ms: spec.gapMs ?? 0 },
      timeoutMs,
    );
    return { msg: spec.msg, padBytes, firstSeq: body.first_seq, lastSeq: body.last_seq };
  }

  /** Rotates the file now; answers the seq of the last line written before the rotation. */
  async rotate(mode: "rename" | "copytruncate"): Promise<number> {
    return (await this.call<{ last_seq_before: number }>("POST", "/v2/debug/log/rotate", { mode })).last_seq_before;
  }

  private async call<T>(method: "GET" | "POST", path: string, json?: unknown, timeoutMs = CALL_TIMEOUT_MS): Promise<T> {
    const signal = AbortSignal.any([this.signal, AbortSignal.timeout(timeoutMs)]);
    const response = await request(`${this.baseUrl}${path}`, {
      method,
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      ...(json !== undefined ? { body: JSON.stringify(json), headers: { "content-type": "application/json" } } : {}),
    }).catch((error: Error) => {
      throw new Error(`${method} ${this.baseUrl}${path}: ${error.message}`);
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`${method} ${this.baseUrl}${path}: expected 200, got ${response.statusCode} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }
}

/** The backend listener the sidecar exports to (its manifest's logs.export). */
export function exportService(context: ConformanceContext): BackendService {
  const logs = context.sidecar.manifest.spec.logs;
  if (!logs) throw new Error(`${context.sidecar.file}: spec.logs is missing (the logs role needs it)`);
  return logs.export === "otlp-http" ? "otlp" : "syslog";
}

export function roleBackend(pod: StartedPod, signal: AbortSignal): RoleBackend {
  return new RoleBackend(pod.url(BACKEND_CONTAINER, "control"), pod.url(BACKEND_CONTAINER, "vault"), { signal });
}

/** What arrived at the backend, fetched incrementally (each poll asks only for records after the last). */
export class BackendLogs {
  private readonly records: ReceivedLogRecord[] = [];
  private next = 0;
  /** Records the backend itself could not keep (its bounds): its loss, not the sidecar's. */
  droppedByBackend = 0;

  constructor(
    readonly backend: RoleBackend,
    private readonly runId: string,
  ) {}

  async refresh(): Promise<void> {
    const fresh = await this.backend.allLogs(this.next);
    this.records.push(...fresh);
    this.next += fresh.length;
    if (fresh.length > 0) this.droppedByBackend = (await this.backend.logs(this.next)).droppedRecords;
  }

  /**
   * Refreshes every `intervalMs` until `work` settles, tolerating failed reads (a backend
   * being stopped), then once more; answers `work`'s value, whether that last read
   * succeeded, and the failed reads. What arrived is kept from every read that succeeded.
   */
  async followDuring<T>(work: Promise<T>, intervalMs: number, signal: AbortSignal): Promise<{ value: T; lastReadOk: boolean; failedReads: number }> {
    let settled = false;
    let failedReads = 0;
    const done = work.finally(() => {
      settled = true;
    });
    const tryRefresh = () => this.refresh().then(
      () => true,
      () => {
        failedReads++;
        return false;
      },
    );
    const following = (async () => {
      while (!settled && !signal.aborted) {
        await tryRefresh();
        await Promise.race([done.catch(() => undefined), pause(intervalMs, signal).catch(() => undefined)]);
      }
    })();
    const value = await done;
    await following;
    const lastReadOk = await tryRefresh();
    return { value, lastReadOk, failedReads };
  }

  get count(): number {
    return this.records.length;
  }

  /** The records so far, parsed; `untilIndex` keeps only records before that index. */
  arrivals(untilIndex = Number.POSITIVE_INFINITY): Arrivals {
    return parseArrivals(untilIndex === Number.POSITIVE_INFINITY ? this.records : this.records.filter((r) => r.index < untilIndex), this.runId);
  }

  /**
   * Polls until every seq in `seqs` has arrived at least once or `timeoutMs` passes;
   * answers how long it took (null: not within the bound).
   */
  async waitForSeqs(seqs: readonly number[], timeoutMs: number, signal: AbortSignal, intervalMs = 100): Promise<number | null> {
    const wanted = new Set(seqs);
    const began = performance.now();
    const maxPolls = Math.ceil(timeoutMs / intervalMs) + 2;
    let seen = 0;
    for (let poll = 0; poll < maxPolls; poll++) {
      await this.refresh();
      for (const line of parseArrivals(this.records.slice(seen), this.runId).lines) wanted.delete(line.seq);
      seen = this.records.length;
      const elapsedMs = performance.now() - began;
      if (wanted.size === 0) return elapsedMs;
      if (elapsedMs >= timeoutMs) return null;
      await pause(Math.min(intervalMs, timeoutMs - elapsedMs), signal);
    }
    return null;
  }
}

/**
 * `count` requests the primary logs a line for, 4 at a time over kept-alive connections:
 * three in four are JSON inferences (the application's traffic), the others its model
 * metadata and a model that does not exist (404), each with its own x-request-id.
 */
export async function sendLoggedRequests(context: ConformanceContext, baseUrl: string, count: number, idPrefix: string): Promise<SentRequest[]> {
  const origin = assertLoadTarget(baseUrl).origin;
  const model = context.primary.manifest.spec.model.name;
  const pool = new Pool(origin, { connections: 4, headersTimeout: CALL_TIMEOUT_MS, bodyTimeout: CALL_TIMEOUT_MS });
  const sent: SentRequest[] = new Array(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const requestId = `${idPrefix}-${i}`;
      const kind = i % 8;
      const spec =
        kind === 3
          ? { method: "GET" as const, path: `/v2/models/${model}`, body: undefined }
          : kind === 7
            ? { method: "GET" as const, path: `/v2/models/${model}-absent`, body: undefined }
            : { ...inferRequest(context, { seed: i + 1 }) };
      const headers: Record<string, string> = { ...("headers" in spec ? spec.headers : {}), "x-request-id": requestId };
      const response = await pool.request({ path: spec.path, method: spec.method, headers, ...(spec.body ? { body: spec.body } : {}), signal: context.signal });
      const body = Buffer.from(await response.body.arrayBuffer());
      sent[i] = { requestId, method: spec.method, path: spec.path, status: response.statusCode, bytesIn: spec.body?.length ?? 0, bytesOut: body.length };
    }
  };
  try {
    await Promise.all(Array.from({ length: 4 }, worker));
  } finally {
    await pool.close();
  }
  return sent;
}
