// The request a scenario's workload sends, built once per run from its `request` block:
// a unary KServe v2 infer (REST, or gRPC with its REST twin), or a generate_stream token stream.
import { buildGenerateStreamRequest } from "./generate-request.ts";
import { buildGrpcInferRequest } from "./grpc/grpc-infer-request.ts";
import { buildInferRequest, type HttpRequestSpec, type PayloadSpec } from "./kserve-request.ts";

type InferBlock = Omit<PayloadSpec, "model"> & { kind: "infer"; protocol?: "http" | "grpc"; model?: string | undefined };
interface GenerateStreamBlock {
  kind: "generate_stream";
  model?: string;
  prompt?: string;
  promptChars?: number;
  maxTokens: number;
  tokenIntervalMs?: number;
  parameters?: Record<string, string | number | boolean>;
  headers?: Record<string, string>;
}
export type WorkloadRequestBlock = InferBlock | GenerateStreamBlock;

/** The primary manifest's spec.model: infer goes to `name`, a stream to `generator` (default `name`), unless the block names a model. */
export interface PrimaryModel {
  name: string;
  generator?: string | undefined;
}

export function buildWorkloadRequest(block: WorkloadRequestBlock, primaryModel: PrimaryModel, seed: number): HttpRequestSpec {
  if (block.kind === "generate_stream") {
    const { kind: _kind, model, ...rest } = block;
    return buildGenerateStreamRequest({ ...rest, model: model ?? primaryModel.generator ?? primaryModel.name }, seed);
  }
  const { kind: _kind, protocol, model, ...payload } = block;
  const target = inferModel({ model }, primaryModel);
  const http = buildInferRequest({ ...payload, model: target }, seed);
  // Same seed, same tensors: the gRPC message carries the HTTP request's inputs.
  return protocol === "grpc" ? { ...http, grpc: buildGrpcInferRequest({ ...payload, model: target }, seed) } : http;
}

/** The model a unary infer block goes to: its own, else the primary manifest's spec.model.name. */
export function inferModel(block: { model?: string | undefined }, primaryModel: PrimaryModel): string {
  return block.model ?? primaryModel.name;
}

/** For the tools that measure unary infer only (compare, the runtime-overhead bench): the block, or a message naming the field. */
export function requireInferBlock<T extends { kind: string }>(block: T, where: string): Extract<T, { kind: "infer" }> {
  if (block.kind !== "infer") {
    throw new Error(`${where}: spec.workload.request.kind is ${JSON.stringify(block.kind)}; this command measures unary infer requests only (kind: infer)`);
  }
  return block as Extract<T, { kind: "infer" }>;
}
