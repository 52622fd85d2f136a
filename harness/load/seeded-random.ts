// A tiny seeded PRNG (mulberry32): payloads and arrival schedules must be reproducible
// from a recorded seed, and Math.random cannot be seeded.

/** Returns floats uniform in [0, 1), like Math.random. */
export type RandomSource = () => number;

/**
 * mulberry32: 32 bits of state, passes the usual smoke tests, and is more than good
 * enough for test tensors and exponential gaps (not for cryptography).
 */
export function seededRandom(seed: number): RandomSource {
  if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`);
  let state = Math.trunc(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
