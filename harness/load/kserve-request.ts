// KServe v2 (Open Inference Protocol) infer requests, JSON or with Triton's binary tensor
// extension, built once per trial from a payload spec and a seed, and parsers for the
// requests and responses (tests and conformance checks read bodies back with them).
import { seededRandom, type RandomSource } from "./seeded-random.ts";
import type { GrpcInferRequestSpec } from "./grpc/grpc-infer-request.ts";

/** Datatypes the generator can fill with data. */
export type GeneratedDatatype = "FP32" | "FP64" | "INT32" | "INT64";

export interface TensorSpec {
  name: string;
  datatype: GeneratedDatatype;
  /** Concrete dimensions (no -1): the request carries exactly product(shape) elements. */
  shape: number[];
}

export interface PayloadSpec {
  model: string;
  format: "json" | "binary";
  inputs: TensorSpec[];
  /** Output names to request; omitted → the server returns all outputs. */
  outputs?: string[];
  /** Extra headers on every request (e.g. an API key); the framing headers win over them. */
  headers?: Record<string, string>;
}

/** Everything a load generator needs to send one request, reused for every send. */
export interface HttpRequestSpec {
  path: string;
  /** Inference requests are POSTs; GET serves plain endpoints (health, benchmarks). */
  method: "GET" | "POST";
  headers: Record<string, string>;
  body: Buffer;
  /** The answer is a generate_stream SSE body: the open loop times its tokens (token-stream.ts). */
  tokenStream?: boolean;
  /** protocol grpc: the open loop sends this ModelInfer instead (path, headers and body above are the HTTP twin's). */
  grpc?: GrpcInferRequestSpec;
}

export const INFERENCE_HEADER_LENGTH = "Inference-Header-Content-Length";

/** Little-endian codecs per datatype (the binary extension's wire format). */
interface Codec {
  bytes: number;
  read(buf: Buffer, offset: number): number;
  write(buf: Buffer, value: number, offset: number): void;
}

const CODECS: Record<string, Codec> = {
  BOOL: { bytes: 1, read: (b, o) => b.readUInt8(o), write: (b, v, o) => b.writeUInt8(v ? 1 : 0, o) },
  INT8: { bytes: 1, read: (b, o) => b.readInt8(o), write: (b, v, o) => b.writeInt8(v, o) },
  UINT8: { bytes: 1, read: (b, o) => b.readUInt8(o), write: (b, v, o) => b.writeUInt8(v, o) },
  INT16: { bytes: 2, read: (b, o) => b.readInt16LE(o), write: (b, v, o) => b.writeInt16LE(v, o) },
  UINT16: { bytes: 2, read: (b, o) => b.readUInt16LE(o), write: (b, v, o) => b.writeUInt16LE(v, o) },
  INT32: { bytes: 4, read: (b, o) => b.readInt32LE(o), write: (b, v, o) => b.writeInt32LE(v, o) },
  UINT32: { bytes: 4, read: (b, o) => b.readUInt32LE(o), write: (b, v, o) => b.writeUInt32LE(v, o) },
  // 64-bit integers travel as numbers: exact within ±2^53, which is all the generator emits.
  INT64: { bytes: 8, read: (b, o) => Number(b.readBigInt64LE(o)), write: (b, v, o) => b.writeBigInt64LE(BigInt(v), o) },
  UINT64: { bytes: 8, read: (b, o) => Number(b.readBigUInt64LE(o)), write: (b, v, o) => b.writeBigUInt64LE(BigInt(v), o) },
  FP32: { bytes: 4, read: (b, o) => b.readFloatLE(o), write: (b, v, o) => b.writeFloatLE(v, o) },
  FP64: { bytes: 8, read: (b, o) => b.readDoubleLE(o), write: (b, v, o) => b.writeDoubleLE(v, o) },
};

function codecFor(datatype: string, where: string): Codec {
  const codec = CODECS[datatype];
  if (!codec) {
    throw new Error(`${where}: datatype ${JSON.stringify(datatype)} is not supported; expected one of ${Object.keys(CODECS).join(", ")}`);
  }
  return codec;
}

export function elementCount(shape: readonly number[], where = "shape"): number {
  let count = 1;
  for (const [i, dim] of shape.entries()) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new Error(`${where}[${i}]: expected a non-negative integer, got ${JSON.stringify(dim)}`);
    }
    count *= dim;
  }
  return count;
}

/**
 * Deterministic values per datatype. FP32 values are rounded to float32 so that the JSON
 * and binary encodings carry the very same numbers; INT64 stays within ±2^52 so JSON
 * numbers are exact.
 */
export function generateTensorData(datatype: GeneratedDatatype, count: number, random: RandomSource): number[] {
  const data = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    switch (datatype) {
      case "FP32":
        data[i] = Math.fround(random() * 2 - 1);
        break;
      case "FP64":
        data[i] = random() * 2 - 1;
        break;
      case "INT32":
        data[i] = Math.floor(random() * 4_294_967_296) - 2_147_483_648;
        break;
      case "INT64":
        data[i] = (Math.floor(random() * 2 ** 21) - 2 ** 20) * 2 ** 32 + Math.floor(random() * 2 ** 32);
        break;
    }
  }
  return data;
}

function encodeTensor(datatype: string, data: readonly number[]): Buffer {
  const codec = codecFor(datatype, "encode");
  const buf = Buffer.allocUnsafe(data.length * codec.bytes);
  for (let i = 0; i < data.length; i++) codec.write(buf, data[i] as number, i * codec.bytes);
  return buf;
}

function decodeTensor(datatype: string, bytes: Buffer, where: string): number[] {
  const codec = codecFor(datatype, where);
  if (bytes.length % codec.bytes !== 0) {
    throw new Error(`${where}: ${bytes.length} bytes is not a multiple of ${codec.bytes} (${datatype})`);
  }
  const data = new Array<number>(bytes.length / codec.bytes);
  for (let i = 0; i < data.length; i++) data[i] = codec.read(bytes, i * codec.bytes);
  return data;
}

/**
 * Builds the request for `spec`. `source` is a seed (recorded with the trial) or a
 * RandomSource; the id defaults to one derived from the seed.
 */
export function buildInferRequest(spec: PayloadSpec, source: number | RandomSource, id?: string): HttpRequestSpec {
  if (spec.model === "") throw new Error("payload.model: expected a non-empty model name");
  if (spec.inputs.length === 0) throw new Error("payload.inputs: expected at least one input tensor");
  const random = typeof source === "number" ? seededRandom(source) : source;
  const requestId = id ?? (typeof source === "number" ? `sidecar-bench-${source}` : "sidecar-bench");
  const path = `/v2/models/${encodeURIComponent(spec.model)}/infer`;
  const tensors = spec.inputs.map((input, i) => ({
    input,
    data: generateTensorData(input.datatype, elementCount(input.shape, `payload.inputs[${i}].shape`), random),
  }));

  if (spec.format === "json") {
    const body = {
      id: requestId,
      inputs: tensors.map(({ input, data }) => ({ name: input.name, shape: input.shape, datatype: input.datatype, data })),
      ...(spec.outputs ? { outputs: spec.outputs.map((name) => ({ name })) } : {}),
    };
    return { path, method: "POST", headers: { ...spec.headers, "content-type": "application/json" }, body: Buffer.from(JSON.stringify(body)) };
  }

  const payloads = tensors.map(({ input, data }) => encodeTensor(input.datatype, data));
  const header = {
    id: requestId,
    inputs: tensors.map(({ input }, i) => ({
      name: input.name,
      shape: input.shape,
      datatype: input.datatype,
      parameters: { binary_data_size: (payloads[i] as Buffer).length },
    })),
    // Without named outputs, Triton's request-level flag asks for every output in binary.
    ...(spec.outputs
      ? { outputs: spec.outputs.map((name) => ({ name, parameters: { binary_data: true } })) }
      : { parameters: { binary_data_output: true } }),
  };
  const headerBytes = Buffer.from(JSON.stringify(header));
  return {
    path,
    method: "POST",
    headers: { ...spec.headers, "content-type": "application/octet-stream", [INFERENCE_HEADER_LENGTH]: String(headerBytes.length) },
    body: Buffer.concat([headerBytes, ...payloads]),
  };
}

// ---------------------------------------------------------------- parsing

export type HeaderBag = Record<string, string | string[] | number | undefined>;

export interface DecodedTensor {
  name: string;
  datatype: string;
  shape: number[];
  /** Row-major, flattened. */
  data: number[];
  parameters?: Record<string, unknown>;
}

export interface RequestedOutput {
  name: string;
  binary: boolean;
}

export interface ParsedInferRequest {
  id?: string;
  inputs: DecodedTensor[];
  outputs?: RequestedOutput[];
  parameters?: Record<string, unknown>;
  /** True when the body used the binary tensor extension. */
  binary: boolean;
}

export interface ParsedInferResponse {
  id?: string;
  model_name?: string;
  model_version?: string;
  outputs: DecodedTensor[];
  parameters?: Record<string, unknown>;
  binary: boolean;
}

function headerValue(headers: HeaderBag, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? value[0] : String(value);
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function flatten(value: unknown, where: string, out: number[] = []): number[] {
  if (Array.isArray(value)) {
    for (const item of value) flatten(item, where, out);
  } else if (typeof value === "number") {
    out.push(value);
  } else if (typeof value === "boolean") {
    out.push(value ? 1 : 0);
  } else {
    throw new Error(`${where}: expected numbers (possibly nested arrays), got ${JSON.stringify(value)}`);
  }
  return out;
}

/** Splits a body into its JSON header and the binary section that follows it. */
function splitBody(headers: HeaderBag, body: Buffer, kind: string): { json: Record<string, unknown>; rest: Buffer; binary: boolean } {
  const lengthText = headerValue(headers, INFERENCE_HEADER_LENGTH);
  let jsonLength = body.length;
  if (lengthText !== undefined) {
    jsonLength = Number(lengthText);
    if (!Number.isSafeInteger(jsonLength) || jsonLength < 0 || jsonLength > body.length) {
      throw new Error(`${kind} header ${INFERENCE_HEADER_LENGTH}: expected an integer in 0..${body.length}, got ${JSON.stringify(lengthText)}`);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(body.subarray(0, jsonLength).toString("utf8"));
  } catch (err) {
    throw new Error(`${kind} JSON: ${(err as Error).message}`);
  }
  if (!isRecord(json)) throw new Error(`${kind} JSON: expected an object`);
  return { json, rest: body.subarray(jsonLength), binary: lengthText !== undefined };
}

function decodeTensors(json: Record<string, unknown>, key: "inputs" | "outputs", rest: Buffer, kind: string): DecodedTensor[] {
  const list = json[key];
  if (!Array.isArray(list)) throw new Error(`${kind}.${key}: expected an array`);
  let offset = 0;
  const tensors = list.map((raw: unknown, i): DecodedTensor => {
    const where = `${kind}.${key}[${i}]`;
    if (!isRecord(raw)) throw new Error(`${where}: expected an object`);
    const { name, datatype, shape, parameters } = raw;
    if (typeof name !== "string") throw new Error(`${where}.name: expected a string`);
    if (typeof datatype !== "string") throw new Error(`${where}.datatype: expected a string`);
    if (!Array.isArray(shape)) throw new Error(`${where}.shape: expected an array of non-negative integers`);
    const count = elementCount(shape as number[], `${where}.shape`);
    if (parameters !== undefined && !isRecord(parameters)) throw new Error(`${where}.parameters: expected an object`);
    const binarySize = parameters?.["binary_data_size"];
    let data: number[];
    if (binarySize !== undefined) {
      if (typeof binarySize !== "number" || !Number.isSafeInteger(binarySize) || binarySize < 0) {
        throw new Error(`${where}.parameters.binary_data_size: expected a non-negative integer`);
      }
      if (offset + binarySize > rest.length) {
        throw new Error(`${where}: binary_data_size ${binarySize} at offset ${offset} runs past the ${rest.length} binary bytes`);
      }
      data = decodeTensor(datatype, rest.subarray(offset, offset + binarySize), where);
      offset += binarySize;
    } else {
      if (raw["data"] === undefined) throw new Error(`${where}: expected data or parameters.binary_data_size`);
      data = flatten(raw["data"], `${where}.data`);
    }
    if (data.length !== count) throw new Error(`${where}: shape [${shape.join(", ")}] needs ${count} elements, got ${data.length}`);
    return { name, datatype, shape: shape as number[], data, ...(parameters ? { parameters } : {}) };
  });
  if (offset !== rest.length) throw new Error(`${kind}: ${rest.length - offset} binary bytes are not claimed by any tensor`);
  return tensors;
}

function optionalString(json: Record<string, unknown>, key: string, kind: string): string | undefined {
  const value = json[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new Error(`${kind}.${key}: expected a string`);
  return value;
}

function optionalParameters(json: Record<string, unknown>, kind: string): { parameters?: Record<string, unknown> } {
  const value = json["parameters"];
  if (value === undefined) return {};
  if (!isRecord(value)) throw new Error(`${kind}.parameters: expected an object`);
  return { parameters: value };
}

export function parseInferRequest(headers: HeaderBag, body: Buffer): ParsedInferRequest {
  const kind = "request";
  const { json, rest, binary } = splitBody(headers, body, kind);
  const id = optionalString(json, "id", kind);
  const inputs = decodeTensors(json, "inputs", rest, kind);
  const rawOutputs = json["outputs"];
  let outputs: RequestedOutput[] | undefined;
  if (rawOutputs !== undefined) {
    if (!Array.isArray(rawOutputs)) throw new Error(`${kind}.outputs: expected an array`);
    outputs = rawOutputs.map((raw: unknown, i) => {
      if (!isRecord(raw) || typeof raw["name"] !== "string") throw new Error(`${kind}.outputs[${i}].name: expected a string`);
      const params = raw["parameters"];
      return { name: raw["name"], binary: isRecord(params) && params["binary_data"] === true };
    });
  }
  return { ...(id !== undefined ? { id } : {}), inputs, ...(outputs ? { outputs } : {}), ...optionalParameters(json, kind), binary };
}

export function parseInferResponse(headers: HeaderBag, body: Buffer): ParsedInferResponse {
  const kind = "response";
  const { json, rest, binary } = splitBody(headers, body, kind);
  if (typeof json["error"] === "string") throw new Error(`response is an error: ${json["error"]}`);
  const id = optionalString(json, "id", kind);
  const modelName = optionalString(json, "model_name", kind);
  const modelVersion = optionalString(json, "model_version", kind);
  return {
    ...(id !== undefined ? { id } : {}),
    ...(modelName !== undefined ? { model_name: modelName } : {}),
    ...(modelVersion !== undefined ? { model_version: modelVersion } : {}),
    outputs: decodeTensors(json, "outputs", rest, kind),
    ...optionalParameters(json, kind),
    binary,
  };
}
