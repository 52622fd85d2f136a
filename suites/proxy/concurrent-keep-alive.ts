// proxy.concurrent-keep-alive: many clients, each on its own keep-alive connection, all
// open at the same time and each sending several requests: every request answered 2xx,
// no connection refused, reset or timed out.
import { performance } from "node:perf_hooks";
import { Client } from "undici";
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { buildInferRequest } from "../../harness/load/kserve-request.ts";
import { classifyTransportError } from "../../harness/load/load-errors.ts";
import { assertLoadTarget } from "../../harness/load/target-guard.ts";
import { round } from "../../harness/load/http-exchange.ts";
import { sidecarLogTail } from "../support/proxy-comparison.ts";

/** More than the 8–32 worker connections a small client pool opens; few enough for 2 cores. */
export const CONNECTIONS = 64;
export const REQUESTS_PER_CONNECTION = 8;
const MAX_ERROR_SAMPLES = 5;

interface ConnectionTally {
  outcomes: Record<string, number>;
  errorSamples: string[];
  connects: number;
  open: number;
  peakOpen: number;
  latenciesMs: number[];
}

function count(outcomes: Record<string, number>, key: string, n = 1): void {
  outcomes[key] = (outcomes[key] ?? 0) + n;
}

export const concurrentKeepAlive: ConformanceTest = {
  id: "proxy.concurrent-keep-alive",
  description: `${CONNECTIONS} keep-alive connections open at once, each sending ${REQUESTS_PER_CONNECTION} infer requests one after another: all ${CONNECTIONS * REQUESTS_PER_CONNECTION} answered 2xx, no connection errors, within the suite config's concurrentDeadlineMs`,
  profile: "proxy",
  level: "core",
  features: ["keep-alive"],
  faultyFixture: "reference/sidecars/connection-limit.yaml",
  timeoutMs: 45_000,
  detection: exchangeClaim(CONNECTIONS, `keep-alive connection open at the same time as ${CONNECTIONS - 1} others, carrying ${REQUESTS_PER_CONNECTION} requests`, { fixedTries: true }),
  async run(context) {
    const pod = await context.startPod();
    const origin = assertLoadTarget(context.entryUrl(pod)).origin;
    const req = buildInferRequest({ model: context.primary.manifest.spec.model.name, format: "json", inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, 64] }] }, 301);
    const { exchangeTimeoutMs, concurrentDeadlineMs } = context.config;
    const deadline = AbortSignal.any([context.signal, AbortSignal.timeout(concurrentDeadlineMs)]);
    const tally: ConnectionTally = { outcomes: {}, errorSamples: [], connects: 0, open: 0, peakOpen: 0, latenciesMs: [] };
    const clients = Array.from({ length: CONNECTIONS }, () => {
      const client = new Client(origin, { pipelining: 1, keepAliveTimeout: 30_000, connectTimeout: exchangeTimeoutMs, headersTimeout: exchangeTimeoutMs, bodyTimeout: exchangeTimeoutMs });
      client.on("connect", () => {
        tally.connects++;
        tally.open++;
        tally.peakOpen = Math.max(tally.peakOpen, tally.open);
      });
      client.on("disconnect", () => {
        tally.open--;
      });
      return client;
    });

    /** One request; false on a transport error (the connection's remaining requests are then not sent). */
    const send = async (client: Client, connection: number): Promise<boolean> => {
      const startMs = performance.now();
      try {
        const res = await client.request({ path: req.path, method: req.method, headers: req.headers, body: req.body, signal: AbortSignal.any([deadline, AbortSignal.timeout(exchangeTimeoutMs)]) });
        await res.body.dump({ limit: 1_048_576 });
        tally.latenciesMs.push(performance.now() - startMs);
        count(tally.outcomes, String(res.statusCode));
        const is2xx = res.statusCode >= 200 && res.statusCode < 300;
        if (!is2xx && tally.errorSamples.length < MAX_ERROR_SAMPLES) tally.errorSamples.push(`connection ${connection}: status ${res.statusCode}`);
        return true;
      } catch (error) {
        const kind = context.signal.aborted ? "aborted" : deadline.aborted ? "deadline" : classifyTransportError(error);
        count(tally.outcomes, kind);
        if (tally.errorSamples.length < MAX_ERROR_SAMPLES) {
          const code = (error as { code?: unknown }).code;
          tally.errorSamples.push(`connection ${connection}, after ${round(performance.now() - startMs)} ms: ${kind}${typeof code === "string" ? ` ${code}` : ""} (${(error as Error).message})`);
        }
        return false;
      }
    };

    const startedMs = performance.now();
    const failedConnections = new Set<number>();
    try {
      // First request on every connection together, then wait: after this barrier all
      // connections are open at once (if the sidecar keeps them alive).
      const first = await Promise.all(clients.map((client, i) => send(client, i)));
      first.forEach((ok, i) => ok || failedConnections.add(i));
      const openAfterFirst = tally.open;
      await Promise.all(
        clients.map(async (client, i) => {
          if (failedConnections.has(i)) return;
          for (let n = 1; n < REQUESTS_PER_CONNECTION && !deadline.aborted; n++) {
            if (!(await send(client, i))) {
              failedConnections.add(i);
              return;
            }
          }
        }),
      );
      const elapsedMs = performance.now() - startedMs;
      const total = CONNECTIONS * REQUESTS_PER_CONNECTION;
      const answered = Object.entries(tally.outcomes).filter(([k]) => /^\d+$/.test(k)).reduce((n, [, v]) => n + v, 0);
      const ok2xx = Object.entries(tally.outcomes).filter(([k]) => /^2\d\d$/.test(k)).reduce((n, [, v]) => n + v, 0);
      const attempted = Object.values(tally.outcomes).reduce((n, v) => n + v, 0);
      if (attempted < total) count(tally.outcomes, "not sent (its connection failed earlier, or the deadline passed)", total - attempted);
      const sorted = [...tally.latenciesMs].sort((a, b) => a - b);
      const evidence = {
        connections: CONNECTIONS,
        requestsPerConnection: REQUESTS_PER_CONNECTION,
        outcomes: tally.outcomes,
        elapsedMs: round(elapsedMs),
        openConnectionsAfterFirstRound: openAfterFirst,
        peakOpenConnections: tally.peakOpen,
        connectsTotal: tally.connects,
        latencyMs: { p50: round(sorted[Math.floor(sorted.length * 0.5)] ?? Number.NaN), max: round(sorted[sorted.length - 1] ?? Number.NaN) },
        ...(tally.errorSamples.length ? { errorSamples: tally.errorSamples } : {}),
      };
      if (ok2xx === total) {
        return {
          verdict: "passed",
          message: `${total} requests on ${CONNECTIONS} concurrent keep-alive connections all answered 2xx in ${round(elapsedMs, 0)} ms (${tally.peakOpen} connections open at peak, ${tally.connects} opened)`,
          evidence,
        };
      }
      const failures = Object.entries(tally.outcomes)
        .filter(([k]) => !/^2\d\d$/.test(k))
        .map(([k, v]) => `${v} ${/^\d+$/.test(k) ? `× status ${k}` : `× ${k}`}`)
        .join(", ");
      return {
        verdict: "failed",
        message: `expected all ${total} requests on ${CONNECTIONS} concurrent keep-alive connections to be answered 2xx within ${concurrentDeadlineMs} ms; found ${ok2xx} ok (${answered} answered), ${failures}; ${failedConnections.size} connections failed, ${openAfterFirst} open after the first round; e.g. ${tally.errorSamples.slice(0, 2).join(" | ")}`,
        evidence: { ...evidence, sidecarLogTail: sidecarLogTail(context, pod) },
      };
    } finally {
      await Promise.all(clients.map((client) => client.destroy().catch(() => undefined)));
    }
  },
};
