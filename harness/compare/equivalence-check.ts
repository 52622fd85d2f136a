// Before the three integrations' costs mean anything, they must do the same work: the
// request-guard contract (reference/integrations/README.md) checked on each running pod —
// the key check, identical answers, one metric sample and one audit line per request —
// and the facts later rows rest on (which language, which process) read off the function itself.
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import type { Agent } from "undici";
import { exchange, type ExchangeRequest, type ExchangeResult } from "../load/http-exchange.ts";
import type { HttpRequestSpec } from "../load/kserve-request.ts";
import type { StartedPod } from "../runtime/pod-runtime.ts";
import { PRIMARY_CONTAINER, PRIMARY_HTTP_PORT } from "../scenario/index.ts";
import type { Column } from "./claims.ts";
import type { EquivalenceCheck, EquivalenceResult } from "./comparison-model.ts";

export const API_KEY_HEADER = "x-api-key";
/** The audit line's keys, exactly (the contract). */
export const AUDIT_KEYS = ["ts", "aux", "integration", "pid", "method", "path", "status", "duration_us", "bytes_in", "bytes_out", "api_key", "request_id"];
const UNAUTHORIZED_BODY = { error: "missing or invalid API key" };
const KEYED_REQUESTS = 20;

export interface IntegrationUnderCheck {
  column: Column;
  variant: string;
  pod: StartedPod;
  /** Where clients send requests. */
  entry: { container: string; port: string };
  /** The container that hosts the function, and the port of its /metrics. */
  unit: { container: string; metricsPort: string };
  primaryLanguage: string;
}

export interface EquivalenceContext {
  request: HttpRequestSpec;
  /** The bare primary's answer to `request`: every integration must answer the same bytes. */
  reference: Buffer;
  agent: Agent;
  signal: AbortSignal;
  timeoutMs: number;
}

interface Scrape {
  postOk: number;
  histogramCount: number;
  buildInfo: Record<string, string> | null;
}

/** The numbers the checks need from one /metrics scrape. */
export function readGuardMetrics(text: string): Scrape {
  const families = parsePrometheusTextFormat(text);
  const family = (name: string) => families.find((f) => f.name === name);
  const postOk = (family("aux_requests_total")?.metrics ?? [])
    .filter((m) => m.labels?.["method"] === "POST" && m.labels?.["code"] === "200")
    .reduce((sum, m) => sum + Number(m.value ?? 0), 0);
  const histogramCount = Number(family("aux_request_duration_seconds")?.metrics[0]?.count ?? Number.NaN);
  const buildInfo = family("aux_build_info")?.metrics[0]?.labels ?? null;
  return { postOk, histogramCount, buildInfo };
}

/** Audit lines of request-guard among a container's log lines (other lines are the primary's own or the runtime's). */
export function auditLines(logLines: string[]): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  for (const line of logLines) {
    const start = line.indexOf("{");
    if (start < 0 || !line.includes('"request-guard"')) continue;
    try {
      const record = JSON.parse(line.slice(start)) as Record<string, unknown>;
      if (record["aux"] === "request-guard") lines.push(record);
    } catch {
      // Not a JSON line.
    }
  }
  return lines;
}

export async function checkEquivalence(target: IntegrationUnderCheck, context: EquivalenceContext): Promise<EquivalenceResult> {
  const { pod } = target;
  const entryUrl = pod.url(target.entry.container, target.entry.port);
  const metricsUrl = pod.url(target.unit.container, target.unit.metricsPort);
  const primaryUrl = pod.url(PRIMARY_CONTAINER, PRIMARY_HTTP_PORT);
  const options = { dispatcher: context.agent, signal: context.signal, timeoutMs: context.timeoutMs };
  const keyed = context.request.headers[API_KEY_HEADER];
  const withoutKey: Record<string, string> = Object.fromEntries(Object.entries(context.request.headers).filter(([name]) => name !== API_KEY_HEADER));
  const send = (url: string, req: ExchangeRequest) => exchange(url, req, options);
  const infer = (headers: Record<string, string>) => send(entryUrl, { method: "POST", path: context.request.path, headers, body: context.request.body });
  const checks: EquivalenceCheck[] = [];
  const check = (name: string, passed: boolean, detail: string) => checks.push({ name, passed, detail });

  const scrape = async (): Promise<Scrape | string> => {
    const result = await send(metricsUrl, { method: "GET", path: "/metrics" });
    if (!result.ok || result.status !== 200) return `GET /metrics: ${describe(result)}`;
    try {
      return readGuardMetrics(result.body.toString("utf8"));
    } catch (error) {
      return `GET /metrics: not Prometheus text (${(error as Error).message})`;
    }
  };

  if (keyed === undefined) check("api-key-configured", false, `the scenario's request carries no ${API_KEY_HEADER} header (workload.request.headers)`);
  const missing = await infer(withoutKey);
  check("rejects-missing-key", isUnauthorized(missing), `no key → ${describe(missing)}`);
  const wrong = await infer({ ...withoutKey, [API_KEY_HEADER]: `${keyed ?? ""}-wrong` });
  check("rejects-invalid-key", isUnauthorized(wrong), `wrong key → ${describe(wrong)}`);

  const before = await scrape();
  const auditBefore = auditLines(pod.logs(target.unit.container, 5_000)).length;
  let identical = 0;
  let firstMismatch = "";
  for (let i = 0; i < KEYED_REQUESTS; i++) {
    const answer = await infer(context.request.headers);
    if (answer.ok && answer.status === 200 && answer.body.equals(context.reference)) identical++;
    else firstMismatch ||= describe(answer);
  }
  check("answers-like-the-bare-primary", identical === KEYED_REQUESTS, `${identical}/${KEYED_REQUESTS} keyed requests answered 200 with the bare primary's exact bytes${firstMismatch ? `; first other: ${firstMismatch}` : ""}`);

  // A unit may record a request just after its response reached the client (Go's handler
  // returns, then a deferred record runs): the last one may land a moment after the answer,
  // so scrape again briefly (≤ 1 s) until both series have caught up. Over-counting still fails.
  let after = await scrape();
  let afterScrapes = 1;
  const caughtUp = (a: Scrape) => typeof before === "string" || (a.postOk - before.postOk >= KEYED_REQUESTS && a.histogramCount - before.histogramCount >= KEYED_REQUESTS);
  while (typeof after !== "string" && !caughtUp(after) && afterScrapes < 20) {
    await new Promise((done) => setTimeout(done, 50));
    after = await scrape();
    afterScrapes++;
  }
  if (typeof before === "string" || typeof after === "string") {
    check("metrics", false, typeof before === "string" ? before : (after as string));
  } else {
    const counted = after.postOk - before.postOk;
    check("counts-each-request", counted === KEYED_REQUESTS, `aux_requests_total{method="POST",code="200"} grew by ${counted} for ${KEYED_REQUESTS} requests`);
    const observed = after.histogramCount - before.histogramCount;
    // Scrapes are requests too (exempt from the key, still observed): the first one and every
    // later one but the last, plus the last's own if the unit records before it renders.
    const scrapesObserved = afterScrapes + 1;
    check("times-each-request", observed >= KEYED_REQUESTS && observed <= KEYED_REQUESTS + scrapesObserved, `aux_request_duration_seconds_count grew by ${observed} for ${KEYED_REQUESTS} requests (+ up to ${scrapesObserved} scrapes)`);
  }

  // Audit lines are written after each response: give the last ones a moment to reach the log.
  let audit: Array<Record<string, unknown>> = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    audit = auditLines(pod.logs(target.unit.container, 5_000)).slice(auditBefore);
    if (audit.filter((a) => a["path"] === context.request.path && a["status"] === 200).length >= KEYED_REQUESTS) break;
    await new Promise((done) => setTimeout(done, 50));
  }
  const inferLines = audit.filter((a) => a["path"] === context.request.path && a["status"] === 200);
  check("audit-line-per-request", inferLines.length === KEYED_REQUESTS, `${inferLines.length} audit lines with status 200 for ${KEYED_REQUESTS} requests`);
  const badKeys = inferLines.find((a) => Object.keys(a).sort().join() !== [...AUDIT_KEYS].sort().join());
  check("audit-line-fields", inferLines.length > 0 && badKeys === undefined, badKeys ? `a line has the keys ${Object.keys(badKeys).join(", ")}` : `keys: ${AUDIT_KEYS.join(", ")}`);

  const info = typeof after === "string" ? null : after.buildInfo;
  check("build-info", info !== null && info["integration"] === target.column, info ? `aux_build_info ${JSON.stringify(info)}` : "no aux_build_info sample");
  const debug = await send(primaryUrl, { method: "GET", path: "/v2/debug/pid", headers: context.request.headers });
  const primaryPid = debug.ok && debug.status === 200 ? Number((JSON.parse(debug.body.toString("utf8")) as { pid?: unknown }).pid) : null;
  check("primary-pid", primaryPid !== null && Number.isInteger(primaryPid), `GET /v2/debug/pid → ${describe(debug)}`);

  return {
    column: target.column,
    variant: target.variant,
    passed: checks.every((c) => c.passed),
    checks,
    facts: {
      integration: info?.["integration"] ?? null,
      language: info?.["language"] ?? null,
      runtime: info?.["runtime"] ?? null,
      version: info?.["version"] ?? null,
      functionPid: info?.["pid"] !== undefined ? Number(info["pid"]) : null,
      primaryPid,
      primaryLanguage: target.primaryLanguage,
    },
  };
}

function isUnauthorized(result: ExchangeResult): boolean {
  if (!result.ok || result.status !== 401) return false;
  if (!String(result.headers["content-type"] ?? "").startsWith("application/json")) return false;
  try {
    return JSON.stringify(JSON.parse(result.body.toString("utf8"))) === JSON.stringify(UNAUTHORIZED_BODY);
  } catch {
    return false;
  }
}

function describe(result: ExchangeResult): string {
  if (!result.ok) return `${result.kind} error (${result.message})`;
  const preview = result.body.subarray(0, 80).toString("utf8").replace(/\s+/g, " ");
  return `${result.status} ${preview}`;
}
