import { describe, expect, it } from "vitest";
import { INFERENCE_HEADER_LENGTH } from "./kserve-request.ts";
import { buildWorkloadRequest, inferModel } from "./workload-request.ts";

const primary = { name: "mlp", generator: "token_stream" };

describe("the request a workload sends", () => {
  it("infers with the primary's model unless the block names one", () => {
    const inputs = [{ name: "INPUT0", datatype: "FP32" as const, shape: [1, 4] }];
    expect(buildWorkloadRequest({ kind: "infer", format: "json", inputs }, primary, 1).path).toBe("/v2/models/mlp/infer");
    const large = buildWorkloadRequest({ kind: "infer", model: "identity_fp32", format: "binary", inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, 150528] }] }, primary, 1);
    expect(large.path).toBe("/v2/models/identity_fp32/infer");
    // Triton's binary extension: a JSON header, then the tensor's raw bytes (4 per FP32 value).
    const headerLength = Number(large.headers[INFERENCE_HEADER_LENGTH]);
    expect(large.body.length - headerLength).toBe(150528 * 4);
    expect(inferModel({}, primary)).toBe("mlp");
    expect(inferModel({ model: "identity_fp32" }, primary)).toBe("identity_fp32");
  });

  it("sends the named model over gRPC too", () => {
    const request = buildWorkloadRequest({ kind: "infer", protocol: "grpc", model: "identity_fp32", format: "json", inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, 8] }] }, primary, 1);
    expect(request.grpc?.message.model_name).toBe("identity_fp32");
    expect(request.grpc?.model).toBe("identity_fp32");
  });

  it("streams from the generator unless the block names a model", () => {
    expect(buildWorkloadRequest({ kind: "generate_stream", maxTokens: 4 }, primary, 1).path).toBe("/v2/models/token_stream/generate_stream");
    expect(buildWorkloadRequest({ kind: "generate_stream", model: "mlp", maxTokens: 4 }, primary, 1).path).toBe("/v2/models/mlp/generate_stream");
  });
});
