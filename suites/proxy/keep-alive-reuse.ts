// proxy.keep-alive-reuse: one client connection carries request after request — infer
// calls, errors, echoes, metadata — also after short pauses; a sidecar that closes it
// after an answer (each, some, or only after an error) costs those requests a new TCP
// handshake and leaves a TIME_WAIT socket per request under load. Each request after the
// first is a try: the connection must still be the first one.
import { randomInt } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "undici";
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import { buildInferRequest } from "../../harness/load/kserve-request.ts";
import { classifyTransportError } from "../../harness/load/load-errors.ts";
import { seededRandom } from "../../harness/load/seeded-random.ts";
import { assertLoadTarget } from "../../harness/load/target-guard.ts";
import { headerText, type ExchangeRequest } from "../../harness/load/http-exchange.ts";
import { sidecarLogTail } from "../support/proxy-comparison.ts";

/** Idle pauses (the suite config's keepAliveIdleMs each), spread over the tries. */
export const PAUSES = 3;

interface RequestRecord {
  index: number;
  kind: string;
  expectStatus: number;
  /** Which connection (1 = the first) carried it. */
  connection: number;
  status?: number;
  connectionHeader?: string;
  error?: string;
}

/** The requests a client sends on one connection, in turn: answers 2xx and 4xx, with and without bodies. */
function requestKinds(model: string): Array<{ kind: string; request: ExchangeRequest; expectStatus: number }> {
  const json = buildInferRequest({ model, format: "json", inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, 64] }] }, 401);
  const binary = buildInferRequest({ model, format: "binary", inputs: [{ name: "INPUT0", datatype: "FP32", shape: [2, 64] }] }, 402);
  return [
    { kind: "JSON infer", request: json, expectStatus: 200 },
    { kind: "404 unknown model", request: { ...json, path: "/v2/models/no-such-model/infer" }, expectStatus: 404 },
    { kind: "echo", request: { method: "POST", path: "/v2/debug/echo", headers: { "content-type": "text/plain" }, body: Buffer.from("keep me alive") }, expectStatus: 200 },
    { kind: "binary infer", request: binary, expectStatus: 200 },
    { kind: "model metadata", request: { method: "GET", path: `/v2/models/${encodeURIComponent(model)}` }, expectStatus: 200 },
  ];
}

export const keepAliveReuse: ConformanceTest = {
  id: "proxy.keep-alive-reuse",
  description: `sequential requests of five kinds (infer, a 404, echo, binary infer, metadata), with ${PAUSES} idle pauses (the suite config's keepAliveIdleMs), all travel on one client connection: the sidecar keeps client connections alive`,
  profile: "proxy",
  level: "extended",
  primaryServes: ["debug-endpoints"],
  features: ["keep-alive"],
  faultyFixture: "reference/sidecars/close-connections.yaml",
  timeoutMs: 30_000,
  detection: exchangeClaim(
    DEFAULT_SUITE_CONFIG.triesPerExpectation,
    `request after the previous one on the same client connection (five kinds of request, 2xx and 4xx answers, ${PAUSES} idle pauses of the suite config's keepAliveIdleMs)`,
  ),
  async run(context) {
    const { keepAliveIdleMs, exchangeTimeoutMs } = context.config;
    const pod = await context.startPod();
    const origin = assertLoadTarget(context.entryUrl(pod)).origin;
    const kinds = requestKinds(context.primary.manifest.spec.model.name);
    // Kinds in a seeded random order: a sidecar that closes every k-th connection cannot line up with one kind.
    const seed = randomInt(2 ** 31);
    const random = seededRandom(seed);
    const tries = context.config.triesPerExpectation;
    const total = tries + 1;
    const pauseBefore = new Set(Array.from({ length: PAUSES }, (_, i) => Math.round(((i + 1) * total) / (PAUSES + 1))));
    let connects = 0;
    const closes: string[] = [];
    const client = new Client(origin, { pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: exchangeTimeoutMs, bodyTimeout: exchangeTimeoutMs, connectTimeout: exchangeTimeoutMs });
    client.on("connect", () => connects++);
    client.on("disconnect", (_origin, _targets, error) => closes.push(`after connection ${connects}: ${error.message}`));
    const records: RequestRecord[] = [];
    try {
      for (let i = 0; i < total && !context.signal.aborted; i++) {
        if (pauseBefore.has(i)) await sleep(keepAliveIdleMs, undefined, { signal: context.signal }).catch(() => undefined);
        const { kind, request, expectStatus } = kinds[Math.floor(random() * kinds.length)]!;
        const record: RequestRecord = { index: i, kind, expectStatus, connection: 0 };
        try {
          const res = await client.request({
            path: request.path,
            method: request.method,
            ...(request.headers ? { headers: request.headers } : {}),
            ...(request.body ? { body: request.body } : {}),
            signal: AbortSignal.any([context.signal, AbortSignal.timeout(exchangeTimeoutMs)]),
          });
          await res.body.dump({ limit: 1_048_576 });
          record.status = res.statusCode;
          const connectionHeader = headerText(res.headers, "connection");
          if (connectionHeader !== undefined) record.connectionHeader = connectionHeader;
        } catch (error) {
          record.error = classifyTransportError(error) + `: ${(error as Error).message}`;
        }
        record.connection = connects;
        records.push(record);
      }
    } finally {
      await client.destroy().catch(() => undefined);
    }
    const failed = records.filter((r) => r.error !== undefined || r.status !== r.expectStatus);
    const closing = records.filter((r) => r.connectionHeader?.toLowerCase().split(/\s*,\s*/).includes("close"));
    const reconnected = records.filter((r, i) => i > 0 && r.connection !== records[i - 1]?.connection);
    const evidence = { seed, tries, requests: records.length, pausesBefore: [...pauseBefore], connectionsOpened: connects, disconnects: closes, ...(reconnected.length || closing.length || failed.length ? { records } : {}) };
    const what = `${records.length} sequential requests (${kinds.map((k) => k.kind).join(", ")}, in random order; ${PAUSES} pauses of ${keepAliveIdleMs} ms idle)`;
    if (failed.length === 0 && connects === 1 && closing.length === 0) {
      return { verdict: "passed", message: `${what} all travelled on one connection: ${tries} tries of keeping it alive`, evidence };
    }
    const problems: string[] = [];
    if (connects !== 1) {
      const shown = reconnected.slice(0, 5).map((r) => `${r.index} after ${records[r.index - 1]?.kind}`);
      problems.push(`${connects} connections opened for ${records.length} requests (new connection for requests ${shown.join(", ") || "none"}${reconnected.length > 5 ? `, and ${reconnected.length - 5} more` : ""})`);
    }
    if (closing.length) problems.push(`"connection: close" on ${closing.length} answers (to ${closing.slice(0, 5).map((r) => `${r.index} ${r.kind}`).join(", ")})`);
    if (failed.length) problems.push(`${failed.length} requests failed: ${failed.slice(0, 3).map((r) => `#${r.index} ${r.kind}: ${r.error ?? `status ${r.status}`}`).join("; ")}`);
    return {
      verdict: "failed",
      message: `expected ${what} to travel on one kept-alive connection; found ${problems.join("; ")}`,
      evidence: { ...evidence, sidecarLogTail: sidecarLogTail(context, pod) },
    };
  },
};
