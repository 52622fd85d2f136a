// Requests to the reference primary that lifecycle and resource checks send through the
// sidecar: a small KServe v2 infer (is the path working?), infer with a body of a given
// size (soaks), and token generation that stays in flight for a known time (drains).
import { buildInferRequest, type HttpRequestSpec } from "../../harness/load/kserve-request.ts";
import type { ConformanceContext } from "../../harness/conformance/conformance-test.ts";
import type { TimedRequestSpec } from "./timed-request.ts";

/** Width of INPUT0 of the reference MLP, as the primary manifest configures it. */
export function primaryInputDim(context: ConformanceContext): number {
  const declared = Number(context.primary.manifest.spec.container.env?.["PRIMARY_INPUT_DIM"] ?? "64");
  return Number.isSafeInteger(declared) && declared > 0 ? declared : 64;
}

/**
 * A JSON infer request of `rows` × INPUT_DIM FP32 values (one row ≈ 0.75 KiB of JSON at
 * 64 columns), deterministic from `seed`.
 */
export function inferRequest(context: ConformanceContext, options: { rows?: number; seed?: number } = {}): HttpRequestSpec {
  return buildInferRequest(
    {
      model: context.primary.manifest.spec.model.name,
      format: "json",
      inputs: [{ name: "INPUT0", datatype: "FP32", shape: [options.rows ?? 1, primaryInputDim(context)] }],
    },
    options.seed ?? 1,
  );
}

/** An infer request whose JSON body is about `bytes` long (whole rows; values vary a little in length). */
export function inferRequestOfAbout(context: ConformanceContext, bytes: number, seed = 1): HttpRequestSpec {
  const oneRow = inferRequest(context, { rows: 1, seed }).body.length;
  const perRow = Math.max(1, inferRequest(context, { rows: 2, seed }).body.length - oneRow);
  const rows = Math.max(1, 1 + Math.round((bytes - oneRow) / perRow));
  return inferRequest(context, { rows, seed });
}

export interface GenerateSpec {
  tokens: number;
  tokenIntervalMs: number;
  /** generate_stream (SSE, one event per token) or generate (one JSON body at the end). */
  stream: boolean;
  id: string;
}

/** The request body's prompt; tokens are deterministic from it. */
const PROMPT = "sidecar lifecycle drain";

export function generateRequest(context: ConformanceContext, spec: GenerateSpec): TimedRequestSpec {
  const model = context.primary.manifest.spec.model.generator ?? context.primary.manifest.spec.model.name;
  return {
    method: "POST",
    path: `/v2/models/${model}/${spec.stream ? "generate_stream" : "generate"}`,
    headers: { "content-type": "application/json", "x-request-id": spec.id },
    // parameters.stream: a decoupled model (Triton's token_stream) cannot tell generate from
    // generate_stream and must be told to answer once; the FastAPI primary ignores it.
    body: JSON.stringify({ id: spec.id, text_input: PROMPT, parameters: { max_tokens: spec.tokens, token_interval_ms: spec.tokenIntervalMs, stream: spec.stream } }),
  };
}

/** True when the body is a KServe v2 infer response of the primary (not an error page of the sidecar). */
export function isInferResponse(status: number | undefined, body: Buffer | undefined): boolean {
  if (status !== 200 || !body) return false;
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { model_name?: unknown; outputs?: unknown };
    return typeof parsed.model_name === "string" && Array.isArray(parsed.outputs);
  } catch {
    return false;
  }
}

/** Adds a header to a prebuilt request (e.g. an X-Request-Id per send). */
export function withHeader(request: HttpRequestSpec, name: string, value: string): TimedRequestSpec {
  return { method: request.method, path: request.path, headers: { ...request.headers, [name]: value }, body: request.body };
}
