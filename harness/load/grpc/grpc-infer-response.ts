// A serialized ModelInferResponse decoded into the same shape as an HTTP answer
// (kserve-request.ts's ParsedInferResponse), so tests and checks compare the two protocols
// with one set of tools.
import { parseInferResponse, INFERENCE_HEADER_LENGTH, type ParsedInferResponse } from "../kserve-request.ts";
import { inferenceMethod } from "./inference-service.ts";

interface InferOutputTensorMessage {
  name: string;
  datatype: string;
  shape: number[];
  /** Typed contents: this harness's servers and Triton answer raw_output_contents instead. */
  contents?: Record<string, unknown>;
}

export interface ModelInferResponseMessage {
  model_name?: string;
  model_version?: string;
  id?: string;
  outputs: InferOutputTensorMessage[];
  raw_output_contents: Buffer[];
}

export function decodeInferResponseMessage(body: Buffer): ModelInferResponseMessage {
  return inferenceMethod("ModelInfer").responseDeserialize(body) as unknown as ModelInferResponseMessage;
}

/**
 * The outputs as flat numbers. The raw contents are laid out as the HTTP binary extension's
 * (Triton's one layout), so they go through the HTTP parser, framed as a binary HTTP body.
 */
export function parseGrpcInferResponse(body: Buffer): ParsedInferResponse {
  const message = decodeInferResponseMessage(body);
  const raw = message.raw_output_contents;
  if (raw.length !== message.outputs.length) {
    throw new Error(`ModelInferResponse: ${message.outputs.length} outputs but ${raw.length} raw_output_contents (typed contents are not read)`);
  }
  const header = Buffer.from(
    JSON.stringify({
      ...(message.id ? { id: message.id } : {}),
      ...(message.model_name ? { model_name: message.model_name } : {}),
      ...(message.model_version ? { model_version: message.model_version } : {}),
      outputs: message.outputs.map(({ name, datatype, shape }, i) => ({ name, datatype, shape, parameters: { binary_data_size: (raw[i] as Buffer).length } })),
    }),
  );
  return parseInferResponse({ [INFERENCE_HEADER_LENGTH]: String(header.length) }, Buffer.concat([header, ...raw]));
}
