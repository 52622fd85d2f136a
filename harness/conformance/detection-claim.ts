// What a check can catch, stated as data. A proxy that breaks a rule on some requests is
// as broken as one that breaks it on all: an exchange-based check repeats each of its
// expectations n times, independently and with varied requests, so a fault present on a
// fraction f of requests escapes all n tries with probability (1 − f)^n. A check built
// on one event of the pod's life (a start, a SIGTERM, a measured window) observes it
// once, deterministically, and says so.

/** The confidence every stated detection power is given at. */
export const DETECTION_CONFIDENCE = 0.99;
/** Exchange-based checks must catch a fault present on this fraction of requests (at DETECTION_CONFIDENCE). */
export const REQUIRED_FAULT_FRACTION = 0.1;

export interface DetectionClaim {
  /**
   * "exchanges": independent request/answer tries, any of which can show the fault;
   * "observation": one deterministic observation of an event of the pod's life.
   */
  basis: "exchanges" | "observation";
  /** Independent tries behind each expectation the check asserts (1 for an observation). */
  triesPerExpectation: number;
  /** What one try is, e.g. "request compared directly and through the sidecar" or "1 SIGTERM". */
  unit: string;
  /** Smallest fraction of faulty tries caught with ≥ 99% probability: 1 − 0.01^(1/n); 1 for an observation. */
  catchesFaultFraction: number;
  /** Set when the check's tries are its own figure, not the suite config's triesPerExpectation. */
  fixedTries?: true;
}

/** Probability that n independent tries catch a fault present on a fraction f of them: 1 − (1 − f)^n. */
export function detectionProbability(faultFraction: number, tries: number): number {
  return 1 - (1 - faultFraction) ** tries;
}

/** Smallest fault fraction that n independent tries catch with the given confidence: 1 − (1 − confidence)^(1/n). */
export function smallestCaughtFraction(tries: number, confidence = DETECTION_CONFIDENCE): number {
  return 1 - (1 - confidence) ** (1 / tries);
}

/** Fewest independent tries that catch a fault on `faultFraction` of them with the given confidence. */
export function triesNeeded(faultFraction: number, confidence = DETECTION_CONFIDENCE): number {
  return Math.ceil(Math.log(1 - confidence) / Math.log(1 - faultFraction));
}

/** The claim of a check that repeats each expectation `tries` times (the suite config's, unless `fixedTries`). */
export function exchangeClaim(tries: number, unit: string, options: { fixedTries?: boolean } = {}): DetectionClaim {
  return { basis: "exchanges", triesPerExpectation: tries, unit, catchesFaultFraction: smallestCaughtFraction(tries), ...(options.fixedTries ? { fixedTries: true as const } : {}) };
}

/** The claim of a check that observes one event of the pod's life, deterministically. */
export function observationClaim(unit: string): DetectionClaim {
  return { basis: "observation", triesPerExpectation: 1, unit, catchesFaultFraction: 1 };
}

/**
 * The claim as a run with `triesPerExpectation` (the certification's suite config) makes
 * it: exchange-based claims scale with the tries; observations and fixed tries do not.
 */
export function claimUnder(claim: DetectionClaim, triesPerExpectation: number): DetectionClaim {
  return claim.basis === "exchanges" && !claim.fixedTries ? exchangeClaim(triesPerExpectation, claim.unit) : claim;
}

/** Every way a claim is malformed or too weak, one sentence each. */
export function claimProblems(claim: DetectionClaim | undefined, profile: string): string[] {
  if (claim === undefined) return ["detection is missing: state what the check tries and what fault fraction it catches"];
  const problems: string[] = [];
  if (claim.basis !== "exchanges" && claim.basis !== "observation") problems.push(`detection.basis must be "exchanges" or "observation", found ${JSON.stringify(claim.basis)}`);
  if (!Number.isInteger(claim.triesPerExpectation) || claim.triesPerExpectation < 1) {
    problems.push(`detection.triesPerExpectation must be a whole number ≥ 1, found ${claim.triesPerExpectation}`);
  }
  if (typeof claim.unit !== "string" || claim.unit.trim() === "") problems.push("detection.unit is empty: say what one try is");
  if (claim.basis === "observation") {
    if (claim.triesPerExpectation !== 1 || claim.catchesFaultFraction !== 1) {
      problems.push(`an observation is one deterministic try catching fraction 1, found ${claim.triesPerExpectation} tries catching ${claim.catchesFaultFraction}`);
    }
    if (profile === "proxy") problems.push("proxy checks judge exchanges: detection.basis must be \"exchanges\"");
    return problems;
  }
  const expected = smallestCaughtFraction(claim.triesPerExpectation);
  if (!(Math.abs(claim.catchesFaultFraction - expected) < 1e-9)) {
    problems.push(`detection.catchesFaultFraction must be 1 − 0.01^(1/${claim.triesPerExpectation}) = ${expected.toFixed(4)}, found ${claim.catchesFaultFraction}`);
  } else if (claim.catchesFaultFraction > REQUIRED_FAULT_FRACTION) {
    problems.push(
      `exchange-based checks must catch a fault on ${REQUIRED_FAULT_FRACTION * 100}% of requests with ${DETECTION_CONFIDENCE * 100}% probability: ` +
        `${claim.triesPerExpectation} tries catch only ≥ ${(claim.catchesFaultFraction * 100).toFixed(1)}% (need ≥ ${triesNeeded(REQUIRED_FAULT_FRACTION)} tries)`,
    );
  }
  return problems;
}
