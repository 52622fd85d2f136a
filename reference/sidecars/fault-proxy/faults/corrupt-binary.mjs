// Flips (XOR 0xff) the last byte of binary-tensor responses (those with an
// Inference-Header-Content-Length header): the most significant byte of the last
// element, so the value changes a lot, while every length stays right. Bodies over
// 1 MiB pass untouched (the bug lives in a small-body fast path).
import { Transform } from "node:stream";

export const CORRUPT_LIMIT_BYTES = 1024 * 1024;

const headerOf = (pairs, name) => pairs.find(([key]) => key.toLowerCase() === name)?.[1];

/** A pass-through stream that XORs the byte at `offset` with 0xff. */
export function flipByteAt(offset) {
  let seen = 0;
  return new Transform({
    transform(chunk, _encoding, callback) {
      if (offset >= seen && offset < seen + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[offset - seen] ^= 0xff;
      }
      seen += chunk.length;
      callback(null, chunk);
    },
  });
}

export default {
  name: "corrupt-binary",
  breaks: "proxy.binary-tensors-identical",
  response({ headers }) {
    const jsonLength = Number(headerOf(headers, "inference-header-content-length"));
    const length = Number(headerOf(headers, "content-length"));
    if (!Number.isInteger(jsonLength) || !Number.isInteger(length)) return undefined;
    if (length <= jsonLength || length > CORRUPT_LIMIT_BYTES) return undefined; // no tensor data, or too large
    return { transform: flipByteAt(length - 1) };
  },
};
