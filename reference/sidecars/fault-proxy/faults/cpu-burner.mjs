// Spends CPU on every request, after the response has gone out (so its latency stays
// close to the good proxy's): after each response it spins until the process has used
// --cpu-ms-per-request (default 4) ms of CPU per request since its first one — about that
// many vCPU per 1000 req/s, whatever the proxying itself costs below it — against the
// policy's bound (1 by default, 2 for the Node fixtures).
export const CPU_MS_PER_REQUEST = 4;

export function spin(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** CPU time (user + system) of this process, ms. */
function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export default {
  name: "cpu-burner",
  breaks: "resources.cpu-per-1k-rps",
  request(_req, res, ctx) {
    const burn = (ctx.burn ??= { fromMs: cpuMs(), requests: 0, perRequestMs: ctx.options.cpuMsPerRequest ?? CPU_MS_PER_REQUEST });
    burn.requests++;
    res.once("finish", () =>
      setImmediate(() => {
        const owedMs = burn.requests * burn.perRequestMs - (cpuMs() - burn.fromMs);
        if (owedMs > 0) spin(owedMs);
      }),
    );
  },
};
