// Re-encodes JSON infer responses the way a proxy that parses bodies and prints numbers
// with C's "%g" would: every non-integer number keeps 6 significant digits. Binary
// (Inference-Header-Content-Length) and large bodies stream through untouched, as in
// proxies that only buffer bodies under a size limit; so does everything but /infer.
export const REWRITE_LIMIT_BYTES = 1024 * 1024;

const isInfer = (url) => /\/infer$/.test((url ?? "").split("?")[0]);
const headerOf = (pairs, name) => pairs.find(([key]) => key.toLowerCase() === name)?.[1];

export function roundNumbers(text) {
  return JSON.stringify(JSON.parse(text, (_key, value) => (typeof value === "number" && !Number.isInteger(value) ? Number(value.toPrecision(6)) : value)));
}

export default {
  name: "rewrite-json",
  breaks: "proxy.json-identical",
  response({ req, status, headers }) {
    const contentType = headerOf(headers, "content-type") ?? "";
    const length = Number(headerOf(headers, "content-length"));
    const eligible =
      status === 200 &&
      isInfer(req.url) &&
      contentType.startsWith("application/json") &&
      headerOf(headers, "inference-header-content-length") === undefined &&
      Number.isFinite(length) &&
      length <= REWRITE_LIMIT_BYTES;
    if (!eligible) return undefined;
    return {
      rewrite(body) {
        try {
          return Buffer.from(roundNumbers(body.toString("utf8")));
        } catch {
          return body; // not JSON after all: pass it on
        }
      },
    };
  },
};
