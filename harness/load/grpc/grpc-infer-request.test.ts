// ModelInferRequest building: exact protobuf bytes for known tensors, the same tensors as the
// HTTP binary request for one seed, and the parts a load generator relies on.
import { describe, expect, it } from "vitest";
import { buildInferRequest, INFERENCE_HEADER_LENGTH, type PayloadSpec } from "../kserve-request.ts";
import { buildGrpcInferRequest, decodeInferRequest } from "./grpc-infer-request.ts";
import { parseGrpcInferResponse } from "./grpc-infer-response.ts";
import { inferenceMethod } from "./inference-service.ts";

/** A RandomSource that hands out `values` in turn. */
function sequence(...values: number[]): () => number {
  let next = 0;
  return () => values[next++ % values.length] as number;
}

describe("buildGrpcInferRequest", () => {
  it("serializes known tensors to known protobuf bytes, tensors in raw_input_contents", () => {
    // random 0.75 and 0.25 → FP32 0.5 and -0.5 (generateTensorData maps r to 2r − 1).
    const spec: PayloadSpec = { model: "m", format: "json", inputs: [{ name: "IN", datatype: "FP32", shape: [1, 2] }] };
    const request = buildGrpcInferRequest(spec, sequence(0.75, 0.25), "x");
    const expected = Buffer.from(
      [
        "0a016d", // 1 model_name "m"
        "1a0178", // 3 id "x"
        "2a0e", // 5 inputs, 14 bytes:
        "0a02494e", //   1 name "IN"
        "120446503332", //   2 datatype "FP32"
        "1a020102", //   3 shape [1, 2], packed
        "3a08", // 7 raw_input_contents, 8 bytes: 0.5 and -0.5, float32 little-endian
        "0000003f000000bf",
      ].join(""),
      "hex",
    );
    expect(request.body.toString("hex")).toBe(expected.toString("hex"));
    expect(request.message).toEqual({ model_name: "m", id: "x", inputs: [{ name: "IN", datatype: "FP32", shape: [1, 2] }], raw_input_contents: [Buffer.from("0000003f000000bf", "hex")] });
  });

  it("carries the very tensors of the HTTP binary request for the same seed, one raw entry per input", () => {
    const spec: PayloadSpec = {
      model: "mlp",
      format: "binary",
      inputs: [
        { name: "A", datatype: "FP32", shape: [2, 3] },
        { name: "B", datatype: "INT64", shape: [4] },
      ],
    };
    const grpc = buildGrpcInferRequest(spec, 42);
    const http = buildInferRequest(spec, 42);
    const headerBytes = Number(http.headers[INFERENCE_HEADER_LENGTH]);
    expect(Buffer.concat(grpc.message.raw_input_contents)).toEqual(http.body.subarray(headerBytes));
    expect(grpc.message.raw_input_contents.map((raw) => raw.length)).toEqual([2 * 3 * 4, 4 * 8]);
    expect(grpc.message.id).toBe("sidecar-bench-42");
    // A JSON payload spec draws the same numbers: gRPC ignores the HTTP format.
    expect(buildGrpcInferRequest({ ...spec, format: "json" }, 42).body).toEqual(grpc.body);
    const decoded = decodeInferRequest(grpc.body);
    expect(decoded.inputs).toEqual([
      { name: "A", datatype: "FP32", shape: [2, 3] },
      { name: "B", datatype: "INT64", shape: [4] },
    ]);
    expect(decoded.raw_input_contents).toEqual(grpc.message.raw_input_contents);
  });

  it("requests named outputs and turns extra headers into metadata, without HTTP framing", () => {
    const spec: PayloadSpec = {
      model: "mlp",
      format: "binary",
      inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, 4] }],
      outputs: ["OUTPUT0"],
      headers: { "X-API-Key": "k1", "Content-Type": "application/json" },
    };
    const request = buildGrpcInferRequest(spec, 1);
    expect(decodeInferRequest(request.body).outputs).toEqual([{ name: "OUTPUT0" }]);
    expect(request.metadata).toEqual({ "x-api-key": "k1" });
  });

  it("refuses what the HTTP builder refuses, with its message", () => {
    expect(() => buildGrpcInferRequest({ model: "", format: "binary", inputs: [] }, 1)).toThrow("payload.model: expected a non-empty model name");
  });
});

describe("parseGrpcInferResponse", () => {
  it("decodes raw output contents as the HTTP parser decodes binary outputs", () => {
    const raw = Buffer.alloc(8);
    raw.writeFloatLE(0.25, 0);
    raw.writeFloatLE(0.75, 4);
    const body = inferenceMethod("ModelInfer").responseSerialize({
      model_name: "mlp",
      model_version: "1",
      id: "r1",
      outputs: [{ name: "OUTPUT0", datatype: "FP32", shape: [1, 2] }],
      raw_output_contents: [raw],
    });
    const parsed = parseGrpcInferResponse(body);
    expect(parsed).toMatchObject({ id: "r1", model_name: "mlp", model_version: "1", binary: true });
    expect(parsed.outputs).toEqual([{ name: "OUTPUT0", datatype: "FP32", shape: [1, 2], data: [0.25, 0.75], parameters: { binary_data_size: 8 } }]);
  });

  it("names a response whose outputs lack raw contents", () => {
    const body = inferenceMethod("ModelInfer").responseSerialize({ outputs: [{ name: "OUTPUT0", datatype: "FP32", shape: [1] }] });
    expect(() => parseGrpcInferResponse(body)).toThrow("ModelInferResponse: 1 outputs but 0 raw_output_contents");
  });
});
