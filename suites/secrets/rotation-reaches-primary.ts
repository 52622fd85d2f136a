// secrets.rotation-reaches-primary: a new value written to the store (through its real KV
// v2 API, as an operator or a rotation job would) reaches the primary's file within the
// policy's secrets.rotationMs, without restarting the primary — the point of a secrets
// sidecar over env vars or a restart-on-change pod — and the file is replaced whole (the
// primary never sees it missing or half-written) and its mode never loosened.
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { roundMs } from "../support/timed-request.ts";
import { SEEDED_LABEL } from "../support/secret-values.ts";
import { isStrictMode, modeLoosened } from "./primary-secret.ts";
import { describeChanges, primaryAfter, primarySnapshot, rotate, secretsPodEvidence, startSecretsPod, waitForValue } from "./secrets-pod.ts";

/** Two in a row: a sidecar that picks up one change and then stops watching fails the second. */
const ROTATIONS = 2;

export const rotationReachesPrimary: ConformanceTest = {
  id: "secrets.rotation-reaches-primary",
  description:
    `A value written to the store (KV v2 PUT secret/data/…) reaches the primary's file within the policy's secrets.rotationMs, ${ROTATIONS} rotations in a row; ` +
    "the primary is not restarted, never sees the file missing or holding another value in between (atomic replacement), and the file's mode is not loosened.",
  profile: "secrets",
  level: "core",
  primaryServes: ["role-emitters"],
  features: [],
  faultyFixture: "reference/sidecars/no-rotation.yaml",
  // The store's value first, then each rotation: at most 3 × rotationMs (the default 60 s) plus the pod's start and stop.
  timeoutMs: 240_000,
  detection: observationClaim(`${ROTATIONS} rotations in the store, the primary polled every 50 ms`),
  async run(context): Promise<CheckOutcome> {
    const boundMs = context.policy.secrets.rotationMs;
    const sp = await startSecretsPod(context);
    const before = await primarySnapshot(sp);
    const initial = await waitForValue(sp, sp.seededSha, boundMs);
    const startEpochMs = Date.now();
    if (!initial.reached) {
      return {
        verdict: "failed",
        message: `expected the store's value in the primary's file before rotating it; found ${sp.known.describe(initial.last.current)} after ${roundMs(initial.afterMs, 0)} ms (policy secrets.rotationMs ${boundMs} ms)`,
        evidence: { boundMs, ...secretsPodEvidence(sp) },
      };
    }
    const modeBefore = initial.last.current.mode;
    const changesBefore = initial.last.changes.length;
    const rotations: Array<{ label: string; storeVersion: number; reachedAfterMs: number | null; primarySaw: string }> = [];
    let last = initial.last;
    for (let n = 1; n <= ROTATIONS; n++) {
      const rotation = await rotate(sp, n);
      const wait = await waitForValue(sp, rotation.sha, boundMs, rotation.writtenAtMs);
      last = wait.last;
      rotations.push({ label: rotation.label, storeVersion: rotation.version, reachedAfterMs: wait.reached ? roundMs(wait.afterMs) : null, primarySaw: sp.known.describe(wait.last.current) });
      if (!wait.reached) break;
    }

    const problems: string[] = [];
    const missed = rotations.find((r) => r.reachedAfterMs === null);
    if (missed) problems.push(`${missed.label} had not reached the primary ${boundMs} ms after the store write (the file held ${missed.primarySaw})`);
    const expected = rotations.filter((r) => r.reachedAfterMs !== null).map((r) => r.label);
    const seen = last.changes.slice(changesBefore).map((c) => (c.sha256 === null ? "absent or unreadable" : sp.known.name(c.sha256)));
    const between = seen.filter((label) => !expected.includes(label));
    if (between.length > 0) problems.push(`between the rotations the primary saw the file ${[...new Set(between)].join(", ")} (changes seen: ${seen.join(" → ")})`);
    const modeAfter = last.current.mode;
    if (modeLoosened(modeBefore, modeAfter) || (isStrictMode(modeBefore) && !isStrictMode(modeAfter))) problems.push(`the rotation loosened the file's mode from ${modeBefore} to ${modeAfter}`);
    const restart = await primaryAfter(sp, before);
    problems.push(...restart.problems);

    const evidence = {
      boundMs,
      initial: `${SEEDED_LABEL} in the primary's file ${roundMs(initial.afterMs, 0)} ms after the pod was ready`,
      rotations,
      modeBefore,
      modeAfter,
      // A loose mode from the start is secrets.present-before-primary's rule; this check judges only what a rotation changes.
      ...(!isStrictMode(modeBefore) ? { note: `mode ${modeBefore} before any rotation: secrets.present-before-primary's rule` } : {}),
      primaryChangesSinceReady: describeChanges(sp, last, startEpochMs),
      primary: { before, after: restart.after },
      ...secretsPodEvidence(sp),
    };
    const times = rotations.map((r) => `${r.label} in ${r.reachedAfterMs} ms`).join(", ");
    if (problems.length > 0) {
      return { verdict: "failed", message: `expected each rotation in the primary's file within ${boundMs} ms, without restarting it; found ${problems.join("; ")}`, evidence };
    }
    return {
      verdict: "passed",
      message: `${ROTATIONS} rotations reached the primary's file (${times}; policy ≤ ${boundMs} ms), replaced whole, mode ${modeAfter}, the primary not restarted`,
      evidence,
    };
  },
};
