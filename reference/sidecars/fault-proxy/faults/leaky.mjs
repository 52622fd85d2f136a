// Keeps every request body and 64 KiB more per request, forever: memory grows with the
// number of requests. Capped at 1 GiB so a long soak cannot take the machine down.
// --leak-kib keeps exactly that much per request instead (and not the body), so boundary
// fixtures can grow just inside or just past a policy's bound over a soak.
export const EXTRA_PER_REQUEST_BYTES = 64 * 1024;
export const LEAK_CAP_BYTES = 1024 * 1024 * 1024;

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
    const bytes = kib === undefined ? EXTRA_PER_REQUEST_BYTES : Math.round(kib * 1024);
    // Non-zero fill: the pages must be resident to count.
    ctx.retained.push(Buffer.alloc(bytes, 0x6c));
    ctx.leakedBytes += bytes;
    if (kib !== undefined) return;
    req.on("data", (chunk) => {
      ctx.retained.push(chunk);
      ctx.leakedBytes += chunk.length;
    });
  },
};
