// proxy.upstream-errors-preserved: the primary's error answers — 4xx (unknown model,
// malformed body, wrong shape, unsupported method or encoding) and 5xx (an internal error,
// a bad gateway, 503 while the model is not ready, a slow 504) — reach the client through
// the sidecar with the same status, headers and body: clients and their retry logic act on
// the primary's reasons and Retry-After, not on a proxy's generic page. Proxies that
// replace only 5xx answers (error interception, local replies) are what the 5xx cases
// are for.
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import { INFERENCE_HEADER_LENGTH } from "../../harness/load/kserve-request.ts";
import type { ExchangeRequest } from "../../harness/load/http-exchange.ts";
import { runComparisonCheck, type ComparisonCase } from "../support/proxy-comparison.ts";


/** Long beside a proxied answer (≈ 1 ms), far inside any proxy's upstream timeout; × the 504 case's tries, the check's longest part. */
export const SLOW_ERROR_MS = 150;
/** Headers the primary's 5xx answers carry and clients act on. */
const FAILURE_HEADERS = ["content-type", "cache-control", "retry-after"];

export function errorCases(mlpModel: string): ComparisonCase[] {
  const json = (path: string, text: string, headers: Record<string, string> = {}): ExchangeRequest => ({
    method: "POST",
    path,
    headers: { "content-type": "application/json", ...headers },
    body: Buffer.from(text),
  });
  const infer = `/v2/models/${encodeURIComponent(mlpModel)}/infer`;
  const validBody = JSON.stringify({ inputs: [{ name: "INPUT0", shape: [1, 64], datatype: "FP32", data: new Array<number>(64).fill(0.5) }] });
  const compare = (name: string, expectStatus: number, request: ExchangeRequest, headers: string[] = ["content-type"]): ComparisonCase => ({
    name,
    request,
    expectStatus,
    headers,
  });
  return [
    compare("404 unknown model (infer)", 404, json("/v2/models/no-such-model/infer", validBody)),
    compare("404 unknown model (ready)", 404, { method: "GET", path: "/v2/models/no-such-model/ready" }),
    compare("404 unknown model version", 404, json(`/v2/models/${encodeURIComponent(mlpModel)}/versions/99/infer`, validBody)),
    compare("404 unknown route", 404, { method: "GET", path: "/v2/no/such/route" }),
    compare("400 malformed JSON body", 400, json(infer, '{"inputs": [{"name": "INPUT0", "shape": [1, 64]')),
    compare("400 wrong shape", 400, json(infer, JSON.stringify({ inputs: [{ name: "INPUT0", shape: [1, 3], datatype: "FP32", data: [1, 2, 3] }] }))),
    compare(
      `400 ${INFERENCE_HEADER_LENGTH} past the end of the body`,
      400,
      json(infer, validBody, { "content-type": "application/octet-stream", [INFERENCE_HEADER_LENGTH]: String(validBody.length + 10) }),
    ),
    compare("405 GET on infer", 405, { method: "GET", path: infer }, ["content-type", "allow"]),
    compare("415 unsupported Content-Encoding", 415, json(infer, validBody, { "content-encoding": "br" })),
    ...[500, 502, 503].map((status) => compare(`${status} from the primary`, status, json(`/v2/debug/fail?status=${status}`, validBody), FAILURE_HEADERS)),
    compare(`504 after ${SLOW_ERROR_MS} ms`, 504, json(`/v2/debug/fail?status=504&delay_ms=${SLOW_ERROR_MS}`, validBody), FAILURE_HEADERS),
  ];
}

export const upstreamErrorsPreserved: ConformanceTest = {
  id: "proxy.upstream-errors-preserved",
  description:
    "error answers of the primary (404 unknown model, version or route; 400 malformed body, wrong shape, bad Inference-Header-Content-Length; 405; 415; " +
    "500, 502, 503 with Retry-After, a slow 504) come through the sidecar with the same status, content-type (and Allow, Cache-Control, Retry-After) and body",
  profile: "proxy",
  level: "core",
  primaryServes: ["debug-endpoints"],
  features: [],
  faultyFixture: "reference/sidecars/mask-errors.yaml",
  timeoutMs: 20_000,
  detection: exchangeClaim(DEFAULT_SUITE_CONFIG.triesPerExpectation, "error answer per case (kept-alive, fresh and concurrent connections), compared directly and through the sidecar"),
  async run(context) {
    return runComparisonCheck(context, errorCases(context.primary.manifest.spec.model.name), { compared: "status, headers and body", requests: "error answers (4xx and 5xx)" });
  },
};
