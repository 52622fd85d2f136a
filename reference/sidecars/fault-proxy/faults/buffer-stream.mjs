// Buffers every response and sends it whole once the upstream has finished, token
// streams (text/event-stream) included: bytes stay identical, timing does not. With
// --delay-ms it streams instead, holding every chunk back by that long (in order), so
// boundary fixtures can lag each streamed event just inside or just past a policy's bound.
import { Transform } from "node:stream";

/** Passes every chunk on `delayMs` after it arrived, in order, and ends after the last one. */
function lagging(delayMs) {
  let pending = 0;
  let ended;
  return new Transform({
    transform(chunk, _encoding, done) {
      pending++;
      setTimeout(() => {
        this.push(chunk);
        if (--pending === 0) ended?.();
      }, delayMs);
      done();
    },
    flush(done) {
      if (pending === 0) done();
      else ended = done;
    },
  });
}

export default {
  name: "buffer-stream",
  breaks: "proxy.streaming-not-buffered",
  response: (_response, ctx) => (ctx.options.delayMs === undefined ? { rewrite: (body) => body } : { transform: lagging(ctx.options.delayMs) }),
};
