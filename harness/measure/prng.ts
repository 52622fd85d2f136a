// Seeded pseudo-random numbers for everything the harness randomises: trial order,
// Poisson arrival schedules, bootstrap resampling.
//
// Hand-written rather than a dependency because it is tiny (xoshiro128** seeded by
// splitmix32, ~40 lines), needs only 32-bit integer arithmetic (Math.imul, >>>), so it
// yields the same sequence on every platform and Node version, and a recorded seed
// must reproduce a run years later. Math.random() cannot be seeded at all.
// Not cryptographic; never use it for secrets.

/** A seed is recorded in results, so it must survive JSON: a non-negative safe integer. */
export type Seed = number;

export interface Prng {
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform float in [0, 1) with 53 random bits. */
  nextFloat(): number;
  /** Uniform integer in [0, n), without modulo bias; n is an integer in [1, 2^32]. */
  nextInt(n: number): number;
  /**
   * Exponentially distributed value with the given mean, in the mean's unit: the gaps
   * between Poisson arrivals, e.g. `exponential(meanIntervalMs)`.
   */
  exponential(mean: number): number;
  /** Fisher-Yates shuffle; returns a new array and leaves `items` untouched. */
  shuffle<T>(items: readonly T[]): T[];
}

const TWO_POW_32 = 4_294_967_296;
const TWO_POW_53 = 9_007_199_254_740_992;

export function assertSeed(seed: Seed, what = "seed"): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`${what} must be a non-negative safe integer (it is recorded in results); got ${String(seed)}`);
  }
}

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over the UTF-8 bytes, so labels hash identically everywhere. */
function hashLabel(label: string): number {
  let h = 0x811c_9dc5;
  for (const byte of new TextEncoder().encode(label)) {
    h ^= byte;
    h = Math.imul(h, 0x0100_0193);
  }
  return h >>> 0;
}

/**
 * The 32-bit seed of the sub-stream `label` of `seed`. Different labels give
 * statistically independent streams, so e.g. adding a bootstrap does not change the
 * trial order drawn from the same recorded seed.
 */
export function deriveSeed(seed: Seed, label: string): number {
  assertSeed(seed);
  const low = seed >>> 0;
  const high = Math.floor(seed / TWO_POW_32) >>> 0;
  let h = fmix32(low ^ 0x9e37_79b9);
  h = fmix32(h ^ high);
  return fmix32(h ^ hashLabel(label));
}

/** splitmix32 expands one 32-bit seed into well-mixed words for the xoshiro state. */
function splitmix32(state: number): { value: number; state: number } {
  const next = (state + 0x9e37_79b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x21f0_aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a_2d97);
  return { value: (z ^ (z >>> 15)) >>> 0, state: next };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * A xoshiro128** generator for the sub-stream `label` of `seed` (the default label ""
 * is the main stream). Equal (seed, label) pairs give equal sequences.
 */
export function createPrng(seed: Seed, label = ""): Prng {
  let mix = deriveSeed(seed, label);
  const words: number[] = [];
  for (let i = 0; i < 4; i++) {
    const step = splitmix32(mix);
    words.push(step.value);
    mix = step.state;
  }
  let [s0, s1, s2, s3] = words as [number, number, number, number];
  // xoshiro's only forbidden state; splitmix32 cannot realistically produce it, but be sure.
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;

  function nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 = (s2 ^ s0) >>> 0;
    s3 = (s3 ^ s1) >>> 0;
    s1 = (s1 ^ s2) >>> 0;
    s0 = (s0 ^ s3) >>> 0;
    s2 = (s2 ^ t) >>> 0;
    s3 = rotl(s3, 11);
    return result;
  }

  function nextFloat(): number {
    // 27 + 26 bits: every double in [0, 1) on the 2^-53 grid is equally likely.
    const high27 = nextUint32() >>> 5;
    const low26 = nextUint32() >>> 6;
    return (high27 * 67_108_864 + low26) / TWO_POW_53;
  }

  function nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new RangeError(`nextInt(n): n must be an integer in [1, 2^32]; got ${String(n)}`);
    }
    // Reject the top partial block of 2^32 so every residue is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = nextUint32();
      if (x < limit) return x % n;
    }
  }

  function exponential(mean: number): number {
    if (!Number.isFinite(mean) || mean <= 0) {
      throw new RangeError(`exponential(mean): mean must be a positive finite number; got ${String(mean)}`);
    }
    // 1 - u lies in (0, 1], so the logarithm is finite.
    return -mean * Math.log(1 - nextFloat());
  }

  function shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = nextInt(i + 1);
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }

  return { nextUint32, nextFloat, nextInt, exponential, shuffle };
}
