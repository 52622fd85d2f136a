// Triton's KServe v2 gRPC service (inference.GRPCInferenceService) from the protos vendored in
// ./protos (written from tritonclient's own descriptors: protos/generate_protos.py), loaded
// once per process: the serializers and method paths the client sends with.
import { join } from "node:path";
import { loadSync, type MethodDefinition, type Options } from "@grpc/proto-loader";
import { PROJECT_ROOT } from "../../project-root.ts";

// From the project root, not this file, so that it resolves from the dist/ bundle too.
export const PROTO_DIR = join(PROJECT_ROOT, "harness", "load", "grpc", "protos");
export const SERVICE_NAME = "inference.GRPCInferenceService";

/**
 * How messages look in JavaScript: field names as in the .proto (raw_input_contents), int64
 * (shapes) as numbers — exact to 2^53, far beyond any tensor dimension — bytes as Buffers,
 * repeated fields always arrays, a oneof's case named in its own field.
 */
export const MESSAGE_OPTIONS: Options = { keepCase: true, longs: Number, enums: String, bytes: Buffer, defaults: false, arrays: true, oneofs: true, includeDirs: [PROTO_DIR] };

/** A method's path and its (de)serializers; the types are the plain objects of MESSAGE_OPTIONS. */
export type InferenceMethod = MethodDefinition<Record<string, unknown>, Record<string, unknown>>;

let loaded: Record<string, InferenceMethod> | undefined;

/** The service's methods by name (ModelInfer, ServerLive, ...). */
export function inferenceMethods(): Record<string, InferenceMethod> {
  if (!loaded) {
    const definition = loadSync("grpc_service.proto", MESSAGE_OPTIONS);
    const service = definition[SERVICE_NAME];
    if (!service || !("ModelInfer" in service)) throw new Error(`${join(PROTO_DIR, "grpc_service.proto")}: no service ${SERVICE_NAME} with ModelInfer`);
    loaded = service as unknown as Record<string, InferenceMethod>;
  }
  return loaded;
}

export function inferenceMethod(name: string): InferenceMethod {
  const method = inferenceMethods()[name];
  if (!method) throw new Error(`${SERVICE_NAME} has no method ${name}`);
  return method;
}
