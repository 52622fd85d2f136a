// Keeps every request body and 64 KiB more per request, forever: memory grows with the
// number of requests. Capped at 1 GiB so a long soak cannot take the machine down.
// --leak-kib keeps exactly that much per request instead (and not the body), so boundary
// fixtures can grow just inside or just past a policy's bound over a soak: it is kept in
// whole MiB buffers, since many small retained buffers would cost a garbage-collected
// heap more than their bytes (1.7× for 4 KiB ones, measured) and blur the magnitude.
export const EXTRA_PER_REQUEST_BYTES = 64 * 1024;
export const LEAK_CAP_BYTES = 1024 * 1024 * 1024;
const MIB = 1024 * 1024;

export default {
  name: "leaky",
  breaks: "resources.memory-soak-bounded",
  request(req, _res, ctx) {
    ctx.leakedBytes ??= 0;
    if (ctx.leakedBytes >= LEAK_CAP_BYTES) {
      if (!ctx.leakCapLogged) ctx.log("leak-cap-reached", { bytes: ctx.leakedBytes });
      ctx.leakCapLogged = true;
      return;
    }
    const kib = ctx.options.leakKiB;
    if (kib !== undefined) {
      ctx.owedBytes = (ctx.owedBytes ?? 0) + kib * 1024;
      for (; ctx.owedBytes >= MIB; ctx.owedBytes -= MIB) {
        ctx.retained.push(Buffer.alloc(MIB, 0x6c));
        ctx.leakedBytes += MIB;
      }
      return;
    }
    // Non-zero fill: the pages must be resident to count.
    ctx.retained.push(Buffer.alloc(EXTRA_PER_REQUEST_BYTES, 0x6c));
    ctx.leakedBytes += EXTRA_PER_REQUEST_BYTES;
    req.on("data", (chunk) => {
      ctx.retained.push(chunk);
      ctx.leakedBytes += chunk.length;
    });
  },
};
