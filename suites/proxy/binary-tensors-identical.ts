// proxy.binary-tensors-identical: requests with Triton's binary tensor extension (a JSON
// header of Inference-Header-Content-Length bytes, then raw tensor data) answer through the
// sidecar with the same bytes and the same Inference-Header-Content-Length as directly.
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import { buildInferRequest, INFERENCE_HEADER_LENGTH } from "../../harness/load/kserve-request.ts";
import type { ExchangeRequest } from "../../harness/load/http-exchange.ts";
import { runComparisonCheck, type ComparisonCase } from "../support/proxy-comparison.ts";

const HEADER_LENGTH = INFERENCE_HEADER_LENGTH.toLowerCase();

interface RawTensor {
  name: string;
  datatype: string;
  shape: number[];
  bytes: Buffer;
}

/** A binary request from raw tensor bytes (for datatypes and byte patterns the generator does not make). */
function binaryRequest(path: string, inputs: RawTensor[], header: Record<string, unknown>): ExchangeRequest {
  const json = Buffer.from(
    JSON.stringify({
      ...header,
      inputs: inputs.map((t) => ({ name: t.name, shape: t.shape, datatype: t.datatype, parameters: { binary_data_size: t.bytes.length } })),
    }),
  );
  return {
    method: "POST",
    path,
    headers: { "content-type": "application/octet-stream", [INFERENCE_HEADER_LENGTH]: String(json.length) },
    body: Buffer.concat([json, ...inputs.map((t) => t.bytes)]),
  };
}

/** Every byte value twice, CR LF pairs and invalid UTF-8 included: what a text-minded proxy mangles. */
function allByteValues(): Buffer {
  const bytes = Buffer.alloc(512);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 256;
  return bytes;
}

/** BYTES elements: each a 4-byte little-endian length, then the bytes. */
function bytesElements(elements: Buffer[]): Buffer {
  return Buffer.concat(
    elements.flatMap((element) => {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(element.length);
      return [length, element];
    }),
  );
}

/** Generated cases change values with every try and batch size with every block of four (each size meets every delivery); the byte-pattern cases send their fixed bytes each time. */
export function binaryCases(mlpModel: string): ComparisonCase[] {
  const compare = (name: string, request: ComparisonCase["request"]): ComparisonCase => ({
    name,
    request,
    expectStatus: 200,
    headers: ["content-type", HEADER_LENGTH],
  });
  const generated = (model: string, datatype: "FP32" | "FP64" | "INT32" | "INT64", rows: number[], columns: number, seed: number, outputs?: string[]) => (attempt: number) =>
    buildInferRequest({ model, format: "binary", inputs: [{ name: "INPUT0", datatype, shape: [rows[Math.floor(attempt / 4) % rows.length]!, columns] }], ...(outputs ? { outputs } : {}) }, seed + attempt);
  const byteValues = allByteValues();
  const bytesTensor = bytesElements([Buffer.from("\r\n\r\nHTTP/1.1 200 OK\r\n"), Buffer.from([0x00, 0xff, 0xfe, 0xc3, 0x28]), Buffer.alloc(0), Buffer.from("日本🚀")]);
  return [
    compare(`${mlpModel} batch 1–16, all outputs binary`, generated(mlpModel, "FP32", [4, 1, 16, 7], 64, 201_000)),
    compare(`${mlpModel} batch 1–8, OUTPUT0 binary by name`, generated(mlpModel, "FP32", [2, 8, 1], 64, 202_000, ["OUTPUT0"])),
    compare("identity_fp32 [1–9,33]", generated("identity_fp32", "FP32", [3, 1, 9], 33, 203_000)),
    compare("identity_fp64 [1–4,5]", generated("identity_fp64", "FP64", [2, 4, 1], 5, 204_000)),
    compare("identity_int64 [1–3,7]", generated("identity_int64", "INT64", [2, 3, 1], 7, 205_000)),
    compare(
      "identity_uint8 [2,256] every byte value",
      binaryRequest("/v2/models/identity_uint8/infer", [{ name: "INPUT0", datatype: "UINT8", shape: [2, 256], bytes: byteValues }], {
        id: "every-byte",
        parameters: { binary_data_output: true },
      }),
    ),
    compare(
      "identity_bytes [1,4] CR LF, NUL, invalid UTF-8",
      binaryRequest("/v2/models/identity_bytes/infer", [{ name: "INPUT0", datatype: "BYTES", shape: [1, 4], bytes: bytesTensor }], {
        parameters: { binary_data_output: true },
      }),
    ),
    // Binary in, JSON out: the response has no Inference-Header-Content-Length, and must not gain one.
    compare(
      "identity_int32 binary input, JSON output",
      binaryRequest("/v2/models/identity_int32/infer", [{ name: "INPUT0", datatype: "INT32", shape: [1, 128], bytes: byteValues }], {
        outputs: [{ name: "OUTPUT0", parameters: { binary_data: false } }],
      }),
    ),
    // The echo endpoint returns the request body and mirrors the header: the request side, unchanged.
    {
      ...compare(
        "request as the primary received it (/v2/debug/echo)",
        binaryRequest("/v2/debug/echo", [{ name: "INPUT0", datatype: "UINT8", shape: [2, 256], bytes: byteValues }], {}),
      ),
      headers: ["content-type", `x-echo-${HEADER_LENGTH}`],
    },
  ];
}

export const binaryTensorsIdentical: ConformanceTest = {
  id: "proxy.binary-tensors-identical",
  description:
    "KServe v2 requests with the binary tensor extension (Inference-Header-Content-Length) answer through the sidecar with the same status, content-type, Inference-Header-Content-Length and body bytes as directly, and reach the primary unchanged",
  profile: "proxy",
  level: "core",
  primaryServes: ["identity-models", "debug-endpoints"],
  features: ["binary-tensors"],
  faultyFixture: "reference/sidecars/corrupt-binary.yaml",
  timeoutMs: 30_000,
  detection: exchangeClaim(DEFAULT_SUITE_CONFIG.triesPerExpectation, "binary-tensor request per case (values and batch vary; kept-alive, fresh and concurrent connections), compared directly and through the sidecar"),
  async run(context) {
    return runComparisonCheck(context, binaryCases(context.primary.manifest.spec.model.name), { compared: `status, content-type, ${INFERENCE_HEADER_LENGTH} and body bytes`, requests: "binary-tensor requests" });
  },
};
