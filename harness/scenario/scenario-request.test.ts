// workload.request: a unary infer or a generate_stream token stream, each checked with
// messages that name the field.
import { describe, expect, it } from "vitest";
import { parseManifest } from "./load-manifest.ts";

const FILE = "/manifests/scenario.yaml";

function scenarioWithRequest(request: string): string {
  return `apiVersion: sidecar-bench/v1alpha1
kind: Scenario
metadata: { name: s }
spec:
  primary: p.yaml
  variants: [{ name: v, sidecars: [], entry: primary.http }]
  workload:
    load: { mode: open, ratePerSec: 20 }
    request: ${request}
`;
}

function parse(request: string) {
  const { loaded, issues } = parseManifest(scenarioWithRequest(request), FILE, "Scenario");
  return { request: loaded?.manifest.spec.workload.request, issues: issues.map((i) => [i.path, i.message]) };
}

describe("workload.request", () => {
  it("accepts a generate_stream request with defaults, and every field", () => {
    expect(parse("{ kind: generate_stream }")).toEqual({ request: { kind: "generate_stream", maxTokens: 16 }, issues: [] });
    const full = parse('{ kind: generate_stream, model: tokens, prompt: "hello", maxTokens: 32, tokenIntervalMs: 2.5, parameters: { temperature: 0, stream: true }, headers: { x-api-key: k } }');
    expect(full).toEqual({
      request: { kind: "generate_stream", model: "tokens", prompt: "hello", maxTokens: 32, tokenIntervalMs: 2.5, parameters: { temperature: 0, stream: true }, headers: { "x-api-key": "k" } },
      issues: [],
    });
  });

  it("still accepts an infer request", () => {
    expect(parse("{ kind: infer, format: json, inputs: [{ name: x, datatype: FP32, shape: [1] }] }").issues).toEqual([]);
  });

  it("rejects a stream's wrong fields, naming each", () => {
    expect(parse("{ kind: generate_stream, maxTokens: 0, tokenIntervalMs: -1, promptChars: 1.5 }").issues).toEqual([
      ["spec.workload.request.maxTokens", "expected a whole number > 0, found 0"],
      ["spec.workload.request.tokenIntervalMs", "expected a number of milliseconds ≥ 0, found -1"],
      ["spec.workload.request.promptChars", "expected a whole number > 0, found 1.5"],
    ]);
  });

  it("rejects prompt with promptChars, and the parameters the named fields set", () => {
    expect(parse('{ kind: generate_stream, prompt: "a", promptChars: 10, parameters: { max_tokens: 4, token_interval_ms: 1 } }').issues).toEqual([
      ["spec.workload.request.promptChars", "give either prompt or promptChars, not both"],
      ["spec.workload.request.parameters.max_tokens", "set maxTokens instead of parameters.max_tokens"],
      ["spec.workload.request.parameters.token_interval_ms", "set tokenIntervalMs instead of parameters.token_interval_ms"],
    ]);
  });

  it("rejects infer fields on a stream, and an unknown kind", () => {
    const [unknownKey] = parse("{ kind: generate_stream, format: json }").issues;
    expect(unknownKey).toEqual(["spec.workload.request.format", 'unknown key "format"']);
    const [kind] = parse("{ kind: generate, maxTokens: 4 }").issues;
    expect(kind![0]).toBe("spec.workload.request.kind");
    expect(kind![1]).toBe('expected one of "infer", "generate_stream", found "generate" (did you mean "generate_stream"?)');
  });
});
