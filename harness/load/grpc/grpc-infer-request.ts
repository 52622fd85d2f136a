// A KServe v2 gRPC ModelInferRequest built once per trial from the same payload spec and seed
// as the HTTP request (kserve-request.ts), and serialized once: every send writes the same bytes.
// The tensors are the HTTP binary request's own bytes, so for one seed both protocols carry the
// very same inputs; gRPC puts them in raw_input_contents (Triton's layout, one entry per input).
import { buildInferRequest, INFERENCE_HEADER_LENGTH, type PayloadSpec } from "../kserve-request.ts";
import type { RandomSource } from "../seeded-random.ts";
import { inferenceMethod } from "./inference-service.ts";

export interface InferInputTensorMessage {
  name: string;
  datatype: string;
  shape: number[];
}

/** inference.ModelInferRequest as a plain object (proto field names). */
export interface ModelInferRequestMessage {
  model_name: string;
  id: string;
  inputs: InferInputTensorMessage[];
  /** Absent: the server answers every output of the model. */
  outputs?: Array<{ name: string }>;
  raw_input_contents: Buffer[];
}

export interface GrpcInferRequestSpec {
  model: string;
  message: ModelInferRequestMessage;
  /** The serialized message, sent unchanged every time. */
  body: Buffer;
  /** gRPC metadata from the payload's extra headers (an API key, say), names lower-cased. */
  metadata: Record<string, string>;
}

/** HTTP framing headers that mean nothing on gRPC (HTTP/2 carries its own framing). */
const NOT_METADATA = new Set(["content-type", "content-length", "transfer-encoding", INFERENCE_HEADER_LENGTH.toLowerCase()]);

/**
 * The ModelInferRequest for `spec` (its format, json or binary, does not matter: gRPC tensors
 * are always raw bytes). `source` and `id` as for buildInferRequest.
 */
export function buildGrpcInferRequest(spec: PayloadSpec, source: number | RandomSource, id?: string): GrpcInferRequestSpec {
  const http = buildInferRequest({ ...spec, format: "binary" }, source, id);
  const headerBytes = Number(http.headers[INFERENCE_HEADER_LENGTH]);
  const header = JSON.parse(http.body.subarray(0, headerBytes).toString("utf8")) as {
    id: string;
    inputs: Array<InferInputTensorMessage & { parameters: { binary_data_size: number } }>;
  };
  const raw: Buffer[] = [];
  let offset = headerBytes;
  for (const input of header.inputs) {
    const size = input.parameters.binary_data_size;
    raw.push(http.body.subarray(offset, offset + size));
    offset += size;
  }
  const message: ModelInferRequestMessage = {
    model_name: spec.model,
    id: header.id,
    inputs: header.inputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
    ...(spec.outputs ? { outputs: spec.outputs.map((name) => ({ name })) } : {}),
    raw_input_contents: raw,
  };
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec.headers ?? {})) {
    const key = name.toLowerCase();
    if (!NOT_METADATA.has(key)) metadata[key] = value;
  }
  return { model: spec.model, message, body: encodeInferRequest(message), metadata };
}

export function encodeInferRequest(message: ModelInferRequestMessage): Buffer {
  return inferenceMethod("ModelInfer").requestSerialize(message as unknown as Record<string, unknown>);
}

/** The serialized request back as a plain object (tests, and checks comparing what was sent). */
export function decodeInferRequest(body: Buffer): ModelInferRequestMessage {
  return inferenceMethod("ModelInfer").requestDeserialize(body) as unknown as ModelInferRequestMessage;
}
