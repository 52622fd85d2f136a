// The values a certification's secrets checks put in the store: the seeded secret (the
// context's secretValue, random per check) and the rotations the checks write, derived
// from it — random to the sidecar, yet known to whoever holds the seed, so the scan of
// everything a certification wrote (findSecretIn) needs only each check's seed.
import { createHmac } from "node:crypto";
import type { NamedSecret } from "./secret-scan.ts";

/** The most rotations one secrets check writes; secretFamily covers them all. */
export const MAX_ROTATIONS_PER_CHECK = 4;

/** Rotation n (1-based) of the seed: HMAC-SHA256(seed, "…rotation n"), base64url — 43 characters, like the seed. */
export function rotatedSecret(seed: string, n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > MAX_ROTATIONS_PER_CHECK) throw new Error(`rotatedSecret: n must be 1 to ${MAX_ROTATIONS_PER_CHECK}, got ${n}`);
  return createHmac("sha256", seed).update(`sidecar-bench secrets rotation ${n}`).digest("base64url");
}

export function rotationLabel(n: number): string {
  return `rotation ${n}`;
}

export const SEEDED_LABEL = "the seeded secret";

/** The seed and every rotation a check may write from it, named for evidence. */
export function secretFamily(seed: string): NamedSecret[] {
  const rotations = Array.from({ length: MAX_ROTATIONS_PER_CHECK }, (_, i) => ({ label: rotationLabel(i + 1), value: rotatedSecret(seed, i + 1) }));
  return [{ label: SEEDED_LABEL, value: seed }, ...rotations];
}
