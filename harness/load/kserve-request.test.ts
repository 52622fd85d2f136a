import { describe, expect, it } from "vitest";
import {
  buildInferRequest,
  INFERENCE_HEADER_LENGTH,
  parseInferRequest,
  parseInferResponse,
  type PayloadSpec,
} from "./kserve-request.ts";

const inputs: PayloadSpec["inputs"] = [
  { name: "f32", datatype: "FP32", shape: [2, 3] },
  { name: "f64", datatype: "FP64", shape: [2, 2] },
  { name: "i32", datatype: "INT32", shape: [5] },
  { name: "i64", datatype: "INT64", shape: [1, 4] },
];

describe("buildInferRequest, JSON", () => {
  const spec: PayloadSpec = { model: "my model", format: "json", inputs, outputs: ["y"] };
  const req = buildInferRequest(spec, 42);

  it("targets the model's infer endpoint with a JSON body", () => {
    expect(req.method).toBe("POST");
    expect(req.path).toBe("/v2/models/my%20model/infer");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers[INFERENCE_HEADER_LENGTH]).toBeUndefined();
  });

  it("carries extra headers, which cannot override the framing headers", () => {
    const withKey = buildInferRequest({ ...spec, headers: { "x-api-key": "k", "content-type": "text/plain" } }, 42);
    expect(withKey.headers).toMatchObject({ "x-api-key": "k", "content-type": "application/json" });
    const binary = buildInferRequest({ ...spec, format: "binary", headers: { "x-api-key": "k" } }, 42);
    expect(binary.headers).toMatchObject({ "x-api-key": "k", "content-type": "application/octet-stream" });
    expect(binary.headers[INFERENCE_HEADER_LENGTH]).toBeDefined();
  });

  it("is well-formed KServe v2 JSON with flat data of the right length and type", () => {
    const body = JSON.parse(req.body.toString("utf8"));
    expect(body.id).toBe("sidecar-bench-42");
    expect(body.outputs).toEqual([{ name: "y" }]);
    expect(body.inputs.map((t: { name: string }) => t.name)).toEqual(["f32", "f64", "i32", "i64"]);
    for (const [i, t] of body.inputs.entries()) {
      expect(t.shape).toEqual(inputs[i]!.shape);
      expect(t.datatype).toBe(inputs[i]!.datatype);
      expect(t.data).toHaveLength(t.shape.reduce((a: number, b: number) => a * b, 1));
      for (const v of t.data) expect(typeof v).toBe("number");
    }
    const [f32, , i32, i64] = body.inputs;
    for (const v of f32.data) expect(Math.fround(v)).toBe(v);
    for (const v of i32.data) expect(v === (v | 0)).toBe(true);
    for (const v of i64.data) expect(Number.isSafeInteger(v)).toBe(true);
  });

  it("parses back to the same tensors", () => {
    const parsed = parseInferRequest(req.headers, req.body);
    expect(parsed.binary).toBe(false);
    expect(parsed.id).toBe("sidecar-bench-42");
    expect(parsed.outputs).toEqual([{ name: "y", binary: false }]);
    expect(parsed.inputs.map((t) => t.data)).toEqual(JSON.parse(req.body.toString()).inputs.map((t: { data: number[] }) => t.data));
  });

  it("is deterministic in the seed", () => {
    expect(buildInferRequest(spec, 42).body.equals(req.body)).toBe(true);
    expect(buildInferRequest(spec, 43).body.equals(req.body)).toBe(false);
  });

  it("omits outputs when none are named", () => {
    const body = JSON.parse(buildInferRequest({ ...spec, outputs: undefined }, 1).body.toString());
    expect(body.outputs).toBeUndefined();
  });

  it("accepts a random source instead of a seed", () => {
    let i = 0;
    const req2 = buildInferRequest({ model: "m", format: "json", inputs: [{ name: "x", datatype: "FP64", shape: [3] }] }, () => [0, 0.5, 0.75][i++]!);
    expect(JSON.parse(req2.body.toString()).inputs[0].data).toEqual([-1, 0, 0.5]);
  });
});

describe("buildInferRequest, binary tensor extension", () => {
  const spec: PayloadSpec = { model: "m", format: "binary", inputs, outputs: ["y", "z"] };
  const req = buildInferRequest(spec, 42);
  const headerLength = Number(req.headers[INFERENCE_HEADER_LENGTH]);
  const header = JSON.parse(req.body.subarray(0, headerLength).toString("utf8"));

  it("declares the JSON header length and an octet-stream body", () => {
    expect(req.headers["content-type"]).toBe("application/octet-stream");
    expect(Number.isInteger(headerLength) && headerLength > 0).toBe(true);
    expect(req.body[headerLength - 1]).toBe("}".charCodeAt(0));
  });

  it("gives each input its binary_data_size and asks for binary outputs", () => {
    const sizes = header.inputs.map((t: { parameters: { binary_data_size: number } }) => t.parameters.binary_data_size);
    expect(sizes).toEqual([6 * 4, 4 * 8, 5 * 4, 4 * 8]);
    for (const t of header.inputs) expect(t.data).toBeUndefined();
    expect(header.outputs).toEqual([
      { name: "y", parameters: { binary_data: true } },
      { name: "z", parameters: { binary_data: true } },
    ]);
    expect(req.body.length).toBe(headerLength + sizes.reduce((a: number, b: number) => a + b, 0));
  });

  it("carries the same values as the JSON encoding, little-endian", () => {
    const json = parseInferRequest({}, buildInferRequest({ ...spec, format: "json" }, 42).body);
    const binary = parseInferRequest(req.headers, req.body);
    expect(binary.binary).toBe(true);
    expect(binary.outputs).toEqual([
      { name: "y", binary: true },
      { name: "z", binary: true },
    ]);
    expect(binary.inputs.map((t) => t.data)).toEqual(json.inputs.map((t) => t.data));
    expect(req.body.readFloatLE(headerLength)).toBe(json.inputs[0]!.data[0]);
    expect(Number(req.body.readBigInt64LE(headerLength + 24 + 32 + 20))).toBe(json.inputs[3]!.data[0]);
  });

  it("asks for all outputs in binary when none are named", () => {
    const r = buildInferRequest({ ...spec, outputs: undefined }, 1);
    const parsed = parseInferRequest(r.headers, r.body);
    expect(parsed.parameters).toEqual({ binary_data_output: true });
    expect(parsed.outputs).toBeUndefined();
  });
});

describe("payload validation", () => {
  it("names the field of a bad dimension", () => {
    expect(() => buildInferRequest({ model: "m", format: "json", inputs: [{ name: "x", datatype: "FP32", shape: [2, -1] }] }, 1)).toThrow(
      /payload\.inputs\[0\]\.shape\[1\]/,
    );
  });
  it("rejects an empty model name and no inputs", () => {
    expect(() => buildInferRequest({ model: "", format: "json", inputs }, 1)).toThrow(/payload\.model/);
    expect(() => buildInferRequest({ model: "m", format: "json", inputs: [] }, 1)).toThrow(/payload\.inputs/);
  });
});

describe("parseInferResponse", () => {
  it("reads a JSON response with nested data", () => {
    const body = Buffer.from(
      JSON.stringify({ model_name: "m", id: "1", outputs: [{ name: "y", datatype: "INT32", shape: [2, 2], data: [[1, 2], [3, 4]] }] }),
    );
    expect(parseInferResponse({ "content-type": "application/json" }, body)).toEqual({
      id: "1",
      model_name: "m",
      outputs: [{ name: "y", datatype: "INT32", shape: [2, 2], data: [1, 2, 3, 4] }],
      binary: false,
    });
  });

  it("reads a binary response mixing binary and JSON outputs", () => {
    const header = Buffer.from(
      JSON.stringify({
        model_name: "m",
        outputs: [
          { name: "a", datatype: "FP32", shape: [2], parameters: { binary_data_size: 8 } },
          { name: "b", datatype: "BOOL", shape: [2], data: [true, false] },
          { name: "c", datatype: "INT64", shape: [1], parameters: { binary_data_size: 8 } },
        ],
      }),
    );
    const bytes = Buffer.alloc(16);
    bytes.writeFloatLE(1.5, 0);
    bytes.writeFloatLE(-2.25, 4);
    bytes.writeBigInt64LE(-(2n ** 40n), 8);
    const parsed = parseInferResponse({ "inference-header-content-length": [String(header.length)] }, Buffer.concat([header, bytes]));
    expect(parsed.binary).toBe(true);
    expect(parsed.outputs.map((t) => t.data)).toEqual([[1.5, -2.25], [1, 0], [-(2 ** 40)]]);
  });

  it("rejects malformed bodies with the offending field", () => {
    const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
    expect(() => parseInferResponse({}, json({ error: "model not found" }))).toThrow(/model not found/);
    expect(() => parseInferResponse({}, Buffer.from("{"))).toThrow(/response JSON/);
    expect(() => parseInferResponse({}, json({ outputs: [{ name: "y", datatype: "FP32", shape: [3], data: [1, 2] }] }))).toThrow(
      /outputs\[0\].*needs 3 elements, got 2/,
    );
    const header = json({ outputs: [{ name: "y", datatype: "FP32", shape: [4], parameters: { binary_data_size: 16 } }] });
    const h = { [INFERENCE_HEADER_LENGTH]: String(header.length) };
    expect(() => parseInferResponse(h, Buffer.concat([header, Buffer.alloc(8)]))).toThrow(/runs past/);
    expect(() => parseInferResponse(h, Buffer.concat([header, Buffer.alloc(20)]))).toThrow(/4 binary bytes are not claimed/);
    expect(() => parseInferResponse({ [INFERENCE_HEADER_LENGTH]: "999" }, header)).toThrow(/Inference-Header-Content-Length/);
    expect(() =>
      parseInferResponse({}, json({ outputs: [{ name: "s", datatype: "BYTES", shape: [1], parameters: { binary_data_size: 0 } }] })),
    ).toThrow(/BYTES.*not supported/);
  });
});
