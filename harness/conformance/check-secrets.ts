// The secrets a certification seeds into the reference store: one per check, derived from a
// seed only the certifying process holds (it reaches the vitest worker through the
// environment, never a file), so that after the run `certify` can recompute every value a
// check used — and its rotations (suites/support/secret-values.ts) — and scan what it
// wrote for them without any of them having been stored.
import { createHmac } from "node:crypto";
import { randomSecret } from "../scenario/role-wiring.ts";

/** The certification's seed: random like the secrets themselves. */
export const newSecretSeed = randomSecret;

/** The secret a check's pods get: HMAC-SHA256(seed, check id), base64url — random to the sidecar. */
export function checkSecret(seed: string, testId: string): string {
  return createHmac("sha256", seed).update(`sidecar-bench check secret ${testId}`).digest("base64url");
}
