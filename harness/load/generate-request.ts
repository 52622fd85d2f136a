// Requests of Triton's generate extension (POST /v2/models/<model>/generate_stream):
// `text_input` and model-specific `parameters` in a JSON body; the answer is one SSE
// `data:` event per response. max_tokens is the name the reference primaries and
// Triton's LLM backends read; token_interval_ms is the reference primaries' pacing knob.
import type { HttpRequestSpec } from "./kserve-request.ts";
import { seededRandom } from "./seeded-random.ts";

export type GenerateParameter = string | number | boolean;

export interface GenerateStreamSpec {
  model: string;
  /** text_input; omitted → promptChars characters derived from the seed, or DEFAULT_PROMPT. */
  prompt?: string;
  promptChars?: number;
  maxTokens: number;
  tokenIntervalMs?: number;
  /** Further model-specific parameters, sent as given. */
  parameters?: Record<string, GenerateParameter>;
  headers?: Record<string, string>;
}

export const DEFAULT_PROMPT = "Explain in one sentence what a sidecar container does.";

const WORDS = ["sidecar", "proxy", "token", "stream", "latency", "model", "server", "request", "pod", "envoy", "queue", "socket"];

/** A deterministic text of exactly `chars` characters: words from the seed, cut to length. */
export function promptOfLength(chars: number, seed: number): string {
  if (!Number.isSafeInteger(chars) || chars < 1) throw new Error(`promptChars: expected a whole number > 0, got ${chars}`);
  const random = seededRandom(seed);
  let text = "";
  while (text.length < chars) text += `${text ? " " : ""}${WORDS[Math.floor(random() * WORDS.length)]}`;
  return text.slice(0, chars);
}

export function buildGenerateStreamRequest(spec: GenerateStreamSpec, seed: number): HttpRequestSpec {
  if (spec.model === "") throw new Error("generate_stream: expected a non-empty model name");
  if (!Number.isSafeInteger(spec.maxTokens) || spec.maxTokens < 1) throw new Error(`generate_stream.maxTokens: expected a whole number > 0, got ${spec.maxTokens}`);
  const textInput = spec.prompt ?? (spec.promptChars !== undefined ? promptOfLength(spec.promptChars, seed) : DEFAULT_PROMPT);
  const body = {
    id: `sidecar-bench-${seed}`,
    text_input: textInput,
    parameters: {
      ...spec.parameters,
      max_tokens: spec.maxTokens,
      ...(spec.tokenIntervalMs !== undefined ? { token_interval_ms: spec.tokenIntervalMs } : {}),
    },
  };
  return {
    path: `/v2/models/${encodeURIComponent(spec.model)}/generate_stream`,
    method: "POST",
    // The framing headers win over the scenario's extra ones.
    headers: { ...spec.headers, "content-type": "application/json", accept: "text/event-stream" },
    body: Buffer.from(JSON.stringify(body)),
    tokenStream: true,
  };
}
