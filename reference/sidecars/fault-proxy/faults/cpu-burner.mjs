// Spins the CPU for 3 ms per request, after the response has gone out (so its latency
// stays close to the good proxy's): ~3 vCPU per 1000 req/s against the 0.5 budget in its
// manifest.
export const BURN_MS = 3;

export function spin(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

export default {
  name: "cpu-burner",
  breaks: "resources.cpu-per-1k-rps",
  request(_req, res) {
    res.once("finish", () => setImmediate(spin, BURN_MS));
  },
};
