// Send times fixed in advance: the schedule depends only on the rate and the seed,
// never on how fast the server answers (that is what makes the loop open).
import { seededRandom } from "./seeded-random.ts";

export type ArrivalProcess = "constant" | "poisson";

/**
 * Offsets in ms from the start of the run, non-decreasing, beginning at 0. Infinite:
 * the caller bounds it by duration and request count.
 * - constant: i / rate, computed by multiplication so rounding never accumulates.
 * - poisson: exponential gaps with mean 1/rate drawn from a PRNG seeded with `seed`.
 */
export function* arrivalOffsetsMs(arrival: ArrivalProcess, ratePerSec: number, seed: number): Generator<number, never> {
  if (!(ratePerSec > 0) || !Number.isFinite(ratePerSec)) throw new Error(`ratePerSec: expected a positive number, got ${ratePerSec}`);
  const meanGapMs = 1000 / ratePerSec;
  if (arrival === "constant") {
    for (let i = 0; ; i++) yield i * meanGapMs;
  }
  const random = seededRandom(seed);
  let offsetMs = 0;
  for (;;) {
    yield offsetMs;
    // 1 - u lies in (0, 1], so the logarithm is finite.
    offsetMs += -Math.log(1 - random()) * meanGapMs;
  }
}
