import { describe as suite, expect, it } from "vitest";
import { describe, identityProblem, judge, type OutputRow } from "./output-agreement.ts";

const row = (over: Partial<OutputRow>): OutputRow => ({
  target: "fastapi/baseline",
  case: "mlp JSON",
  model: "mlp",
  protocol: "http-json",
  input_sha256: "in",
  ok: true,
  datatype: "FP32",
  shape: [2, 10],
  sha256: "aaaa",
  values: [1, 2, 3],
  ...over,
});

suite("judging tritonclient's answers", () => {
  it("asks a proxy for the direct answer byte for byte", () => {
    expect(judge(row({ target: "fastapi/envoy" }), row({}))).toEqual({ verdict: "identical" });
    // One value off in the last digit: identical bytes are required through a proxy.
    const off = judge(row({ target: "fastapi/envoy", sha256: "bbbb", values: [1, 2, 3.0000001] }), row({}));
    expect(off.verdict).toBe("differs");
  });

  it("lets two primaries' MLP answers differ within 1e-5 relative, and no more", () => {
    expect(judge(row({ target: "triton/baseline", sha256: "bbbb", values: [1.000001, 2, 3] }), row({}), { closeEnough: true })).toEqual({ verdict: "same within 1e-5" });
    expect(judge(row({ target: "triton/baseline", sha256: "bbbb", values: [1.001, 2, 3] }), row({}), { closeEnough: true }).verdict).toBe("differs");
  });

  it("says differs for another shape or datatype, naming both", () => {
    const judgement = judge(row({ target: "fastapi/caddy", shape: [1, 10] }), row({}));
    expect(describe(judgement)).toBe("differs (FP32[1×10] where fastapi/baseline answered FP32[2×10])");
  });

  it("reports a target without an answer as no answer, with the client's error", () => {
    const judgement = judge(row({ target: "fastapi/caddy", ok: false, error: "InferenceServerException: [StatusCode.UNIMPLEMENTED]" }), row({}));
    expect(judgement).toEqual({ verdict: "no answer", why: "InferenceServerException: [StatusCode.UNIMPLEMENTED]" });
  });

  it("checks that an identity model answers its input", () => {
    expect(identityProblem(row({ model: "identity_fp32", input_sha256: "x", sha256: "x" }))).toBeNull();
    expect(identityProblem(row({ model: "identity_fp32", case: "identity", input_sha256: "x", sha256: "y" }))).toMatch(/did not answer its input/);
    expect(identityProblem(row({ model: "mlp", sha256: "y" }))).toBeNull();
  });
});
