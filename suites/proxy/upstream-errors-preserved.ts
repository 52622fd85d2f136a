// proxy.upstream-errors-preserved: the primary's error answers (unknown model, malformed
// body, wrong shape, unsupported method or encoding) reach the client through the sidecar
// with the same status, content-type and body — clients act on the primary's reasons, not
// on a proxy's generic page.
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import { INFERENCE_HEADER_LENGTH } from "../../harness/load/kserve-request.ts";
import type { ExchangeRequest } from "../../harness/load/http-exchange.ts";
import { runComparisonCheck, type ComparisonCase } from "../support/proxy-comparison.ts";


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
  ];
}

export const upstreamErrorsPreserved: ConformanceTest = {
  id: "proxy.upstream-errors-preserved",
  description:
    "error answers of the primary (404 unknown model, version or route; 400 malformed body, wrong shape, bad Inference-Header-Content-Length; 405; 415) come through the sidecar with the same status, content-type and body",
  profile: "proxy",
  level: "core",
  features: [],
  faultyFixture: "reference/sidecars/mask-errors.yaml",
  timeoutMs: 20_000,
  detection: exchangeClaim(DEFAULT_SUITE_CONFIG.triesPerExpectation, "error answer per case, compared directly and through the sidecar"),
  async run(context) {
    return runComparisonCheck(context, errorCases(context.primary.manifest.spec.model.name), { compared: "status, content-type and body", requests: "error answers (404, 400, 405, 415)" });
  },
};
