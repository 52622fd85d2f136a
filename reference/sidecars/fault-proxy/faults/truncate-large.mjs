// Cuts request bodies after 8 MiB, as a proxy with a fixed body buffer would: the
// upstream gets the first 8 MiB (Content-Length adjusted, or the chunked stream ended
// early) and answers for that truncated body; the rest of the client's body is read and
// discarded.
import { Transform } from "node:stream";

export const BODY_LIMIT_BYTES = 8 * 1024 * 1024;

/** Passes the first `limit` bytes and swallows the rest. */
export function truncateAfter(limit) {
  let seen = 0;
  return new Transform({
    transform(chunk, _encoding, callback) {
      const room = limit - seen;
      seen += chunk.length;
      callback(null, room <= 0 ? undefined : room >= chunk.length ? chunk : chunk.subarray(0, room));
    },
  });
}

export default {
  name: "truncate-large",
  breaks: "proxy.large-bodies",
  requestBody(_req, pairs) {
    const at = pairs.findIndex(([name]) => name.toLowerCase() === "content-length");
    if (at >= 0) {
      if (Number(pairs[at][1]) <= BODY_LIMIT_BYTES) return undefined;
      pairs[at] = [pairs[at][0], String(BODY_LIMIT_BYTES)];
    }
    return truncateAfter(BODY_LIMIT_BYTES);
  },
};
