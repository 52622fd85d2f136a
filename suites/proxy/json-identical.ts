// proxy.json-identical: KServe v2 JSON infer requests through the sidecar get the very
// bytes the primary sends back directly, and the primary gets the very bytes the client sent.
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import { buildInferRequest } from "../../harness/load/kserve-request.ts";
import type { ExchangeRequest } from "../../harness/load/http-exchange.ts";
import { runComparisonCheck, type ComparisonCase } from "../support/proxy-comparison.ts";

const JSON_HEADERS = { "content-type": "application/json" };

/** A body given as text, so the client's own JSON encoder cannot normalise the values first. */
function jsonText(path: string, text: string): ExchangeRequest {
  return { method: "POST", path, headers: JSON_HEADERS, body: Buffer.from(text) };
}

function jsonPost(path: string, value: unknown): ExchangeRequest {
  return { method: "POST", path, headers: JSON_HEADERS, body: Buffer.from(JSON.stringify(value)) };
}

/**
 * The responses carry no timestamps or per-request values (id is the request's own, the
 * MLP is deterministic), so the whole body must match. Only `date`, `server` and framing
 * headers may legitimately differ per hop; content-type is compared with the body.
 * Generated cases change values with every try and batch size with every block of four
 * (the deliveries cycle within a block, so each size meets each); the edge-value cases
 * send their fixed bytes each time.
 */
export function jsonCases(mlpModel: string): ComparisonCase[] {
  const compare = (name: string, request: ComparisonCase["request"]): ComparisonCase => ({ name, request, expectStatus: 200, headers: ["content-type"] });
  const mlp = (batches: number[], seed: number, outputs?: string[]) => (attempt: number) =>
    buildInferRequest(
      { model: mlpModel, format: "json", inputs: [{ name: "INPUT0", datatype: "FP32", shape: [batches[Math.floor(attempt / 4) % batches.length]!, 64] }], ...(outputs ? { outputs } : {}) },
      seed + attempt,
    );
  const identity = (datatype: "FP32" | "FP64" | "INT32" | "INT64", rows: number[], columns: number, seed: number) => (attempt: number) =>
    buildInferRequest({ model: `identity_${datatype.toLowerCase()}`, format: "json", inputs: [{ name: "INPUT0", datatype, shape: [rows[Math.floor(attempt / 4) % rows.length]!, columns] }] }, seed + attempt);
  // Strings a re-encoding proxy gets wrong: escapes, non-ASCII, astral characters.
  const texts = ['quote " backslash \\ slash /', "tab\tnew\nline", "héllo wörld", "日本語のテキスト", "rocket 🚀 and \u2028"];
  return [
    compare(`${mlpModel} batch 1–3`, mlp([1, 2, 3], 101_000)),
    compare(`${mlpModel} batch 4–16, outputs named`, mlp([8, 4, 16], 102_000, ["OUTPUT0"])),
    compare("identity_fp32 [1–5,17]", identity("FP32", [3, 1, 5], 17, 103_000)),
    compare("identity_fp64 [1–4,9]", identity("FP64", [2, 4, 1], 9, 104_000)),
    compare("identity_int32 [1–3,8]", identity("INT32", [2, 3, 1], 8, 105_000)),
    compare("identity_int64 [2–6,5]", identity("INT64", [4, 2, 6], 5, 106_000)),
    // Values a parse-and-reserialise proxy changes: integers beyond 2^53 (JavaScript numbers),
    // -0.0, exponents ("1e21" vs "1e+21"), subnormals.
    compare("identity_int64 [1,4] beyond 2^53", jsonText("/v2/models/identity_int64/infer", '{"inputs":[{"name":"INPUT0","shape":[1,4],"datatype":"INT64","data":[9007199254740993,-9223372036854775808,9223372036854775807,-9007199254740993]}]}')),
    compare("identity_fp64 [1,6] edge values", jsonText("/v2/models/identity_fp64/infer", '{"inputs":[{"name":"INPUT0","shape":[1,6],"datatype":"FP64","data":[-0.0,1e21,1.5e300,5e-324,0.1,123456789.123456789]}]}')),
    compare(
      "identity_bool [2,3]",
      jsonPost("/v2/models/identity_bool/infer", { inputs: [{ name: "INPUT0", shape: [2, 3], datatype: "BOOL", data: [true, false, true, false, false, true] }] }),
    ),
    compare(
      "identity_bytes [1,5] UTF-8 strings",
      jsonPost("/v2/models/identity_bytes/infer", { id: "utf8-strings", inputs: [{ name: "INPUT0", shape: [1, texts.length], datatype: "BYTES", data: texts }] }),
    ),
    // The echo endpoint returns the body the primary received: request-side rewriting shows here.
    compare("request body as the primary received it (/v2/debug/echo)", jsonPost("/v2/debug/echo", { id: "echo", texts, values: [1.5, -0.0, 1e-7, 123456789012] })),
  ];
}

export const jsonIdentical: ConformanceTest = {
  id: "proxy.json-identical",
  description:
    "KServe v2 JSON infer requests (MLP and identity models of every JSON datatype, UTF-8 strings) answer through the sidecar with the same status, content-type and body bytes as directly, and reach the primary unchanged",
  profile: "proxy",
  level: "core",
  primaryServes: ["identity-models", "debug-endpoints"],
  features: [],
  faultyFixture: "reference/sidecars/rewrite-json.yaml",
  timeoutMs: 30_000,
  detection: exchangeClaim(DEFAULT_SUITE_CONFIG.triesPerExpectation, "JSON request per case (values and batch vary; kept-alive, fresh and concurrent connections), compared directly and through the sidecar"),
  async run(context) {
    return runComparisonCheck(context, jsonCases(context.primary.manifest.spec.model.name), { compared: "status, content-type and body bytes", requests: "JSON requests" });
  },
};
