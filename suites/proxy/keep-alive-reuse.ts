// proxy.keep-alive-reuse: one client connection carries request after request, also after
// a short pause; a sidecar that closes it after each answer costs every request a new TCP
// handshake and leaves a TIME_WAIT socket per request under load.
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "undici";
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import { buildInferRequest } from "../../harness/load/kserve-request.ts";
import { classifyTransportError } from "../../harness/load/load-errors.ts";
import { assertLoadTarget } from "../../harness/load/target-guard.ts";
import { headerText } from "../../harness/load/http-exchange.ts";
import { sidecarLogTail } from "../support/proxy-comparison.ts";

export const SEQUENTIAL_REQUESTS = 10;
/** Short of every idle timeout in use (uvicorn 5 s, Envoy 1 h): reuse after it is not optional. */
export const PAUSE_MS = 300;
const REQUEST_TIMEOUT_MS = 5_000;

interface RequestRecord {
  index: number;
  /** Which connection (1 = the first) carried it. */
  connection: number;
  status?: number;
  connectionHeader?: string;
  error?: string;
}

export const keepAliveReuse: ConformanceTest = {
  id: "proxy.keep-alive-reuse",
  description: `${SEQUENTIAL_REQUESTS} sequential requests, then one more after ${PAUSE_MS} ms idle, all travel on one client connection: the sidecar keeps client connections alive`,
  profile: "proxy",
  level: "extended",
  features: ["keep-alive"],
  faultyFixture: "reference/sidecars/close-connections.yaml",
  timeoutMs: 20_000,
  detection: exchangeClaim(DEFAULT_SUITE_CONFIG.triesPerExpectation, "request on a kept-alive connection"),
  async run(context) {
    const pod = await context.startPod();
    const origin = assertLoadTarget(context.entryUrl(pod)).origin;
    const req = buildInferRequest({ model: context.primary.manifest.spec.model.name, format: "json", inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, 64] }] }, 401);
    let connects = 0;
    const closes: string[] = [];
    const client = new Client(origin, { pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS, connectTimeout: REQUEST_TIMEOUT_MS });
    client.on("connect", () => connects++);
    client.on("disconnect", (_origin, _targets, error) => closes.push(`after connection ${connects}: ${error.message}`));
    const records: RequestRecord[] = [];
    try {
      for (let i = 0; i <= SEQUENTIAL_REQUESTS && !context.signal.aborted; i++) {
        if (i === SEQUENTIAL_REQUESTS) await sleep(PAUSE_MS, undefined, { signal: context.signal }).catch(() => undefined);
        const record: RequestRecord = { index: i, connection: 0 };
        try {
          const res = await client.request({ path: req.path, method: req.method, headers: req.headers, body: req.body, signal: AbortSignal.any([context.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) });
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
    const failed = records.filter((r) => r.error !== undefined || r.status === undefined || r.status < 200 || r.status >= 300);
    const closing = records.filter((r) => r.connectionHeader?.toLowerCase().split(/\s*,\s*/).includes("close"));
    const evidence = { requests: records, connectionsOpened: connects, disconnects: closes };
    const total = SEQUENTIAL_REQUESTS + 1;
    if (failed.length === 0 && connects === 1 && closing.length === 0) {
      return { verdict: "passed", message: `${total} requests (the last after ${PAUSE_MS} ms idle) all travelled on one connection`, evidence };
    }
    const problems: string[] = [];
    if (connects !== 1) problems.push(`${connects} connections opened for ${total} requests (requests on new connections: ${records.filter((r, i) => i > 0 && r.connection !== records[i - 1]?.connection).map((r) => r.index).join(", ") || "none"})`);
    if (closing.length) problems.push(`"connection: close" on ${closing.length} answers (requests ${closing.map((r) => r.index).join(", ")})`);
    if (failed.length) problems.push(`${failed.length} requests failed: ${failed.slice(0, 3).map((r) => `#${r.index} ${r.error ?? `status ${r.status}`}`).join("; ")}`);
    return {
      verdict: "failed",
      message: `expected ${total} sequential requests (the last after ${PAUSE_MS} ms idle) to travel on one kept-alive connection; found ${problems.join("; ")}`,
      evidence: { ...evidence, sidecarLogTail: sidecarLogTail(context, pod) },
    };
  },
};
