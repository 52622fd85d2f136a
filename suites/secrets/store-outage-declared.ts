// secrets.store-outage-declared: while the store is unreachable the sidecar does what its
// manifest declares (secrets.whenStoreDown) — `keep`: the primary's file keeps the last
// value throughout (Vault Agent and consul-template keep the last render and retry);
// `remove`: the file goes (fail closed) within the policy's secrets.rotationMs, the same
// freshness bound a rotation has, and stays gone until the store returns. Either way the
// primary is not restarted, and once the store is back the sidecar recovers: a rotation
// written then reaches the primary within secrets.rotationMs.
//
// The outage is the role backend's vault listener closed (connections refused, open ones
// reset) for the suite config's backendOutageMs — for `remove`, as long as it takes the
// file to go if that is longer, bounded by rotationMs. Before it, one rotation: the value
// kept must be the newest (not a cached older one), and it shows the sidecar delivers
// rotations at all; if it does not, that is secrets.rotation-reaches-primary's failure,
// and this check judges the outage but cannot judge the recovery (skipped if nothing else failed).
import { performance } from "node:perf_hooks";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { pause } from "../support/bounded-wait.ts";
import { roundMs } from "../support/timed-request.ts";
import type { PrimarySecretView } from "./primary-secret.ts";
import { SECRET_POLL_MS, describeChanges, primaryAfter, primarySnapshot, primaryView, rotate, secretsPodEvidence, startSecretsPod, waitForValue, type SecretsPod } from "./secrets-pod.ts";

export const storeOutageDeclared: ConformanceTest = {
  id: "secrets.store-outage-declared",
  description:
    "While the store is unreachable (the suite config's backendOutageMs) the sidecar does what it declares: whenStoreDown keep → the primary's file keeps the " +
    "last value throughout; remove → the file is gone within the policy's secrets.rotationMs and stays gone until the store returns. The primary is not " +
    "restarted, and after the store returns a rotation reaches the primary within secrets.rotationMs.",
  profile: "secrets",
  level: "core",
  primaryServes: ["role-emitters"],
  features: [],
  faultyFixture: "reference/sidecars/remove-when-down-declares-keep.yaml",
  // Value, rotation, outage (remove: up to rotationMs), recovery: ≤ 4 × rotationMs (default 60 s) + the outage + start and stop.
  timeoutMs: 300_000,
  detection: observationClaim("1 store outage, the primary's file polled every 50 ms and its own 100 ms record of changes"),
  async run(context): Promise<CheckOutcome> {
    const declared = context.sidecar.manifest.spec.secrets?.whenStoreDown;
    // The schema requires it of every secrets sidecar; only a manifest built by hand could lack it.
    if (declared === undefined) throw new Error(`${context.sidecar.file}: spec.secrets.whenStoreDown is missing (required with the secrets role)`);
    const boundMs = context.policy.secrets.rotationMs;
    const outageMs = context.config.backendOutageMs;
    const sp = await startSecretsPod(context);
    const before = await primarySnapshot(sp);
    const initial = await waitForValue(sp, sp.seededSha, boundMs);
    if (!initial.reached) {
      return {
        verdict: "failed",
        message: `expected the store's value in the primary's file before the outage; found ${sp.known.describe(initial.last.current)} after ${roundMs(initial.afterMs, 0)} ms (policy secrets.rotationMs ${boundMs} ms)`,
        evidence: { declared, boundMs, ...secretsPodEvidence(sp) },
      };
    }
    // The newest value before the outage: what `keep` must keep.
    const first = await rotate(sp, 1);
    const firstWait = await waitForValue(sp, first.sha, boundMs, first.writtenAtMs);
    const rotatesAtAll = firstWait.reached;
    const kept = firstWait.last.current;

    const downEpochMs = Date.now();
    const changesBefore = firstWait.last.changes.length;
    await sp.backend.setState("vault", "down");
    const downAtMs = performance.now();
    let watched: OutageWatch;
    try {
      watched = declared === "keep" ? await watchKeep(sp, kept.sha256, downAtMs + outageMs) : await watchRemove(sp, downAtMs, outageMs, boundMs);
    } finally {
      await sp.backend.setState("vault", "up");
    }
    const upAtMs = performance.now();
    const problems = [...watched.problems];
    const duringOutage = watched.last.changes.slice(changesBefore).map((c) => (c.sha256 === null ? "absent or unreadable" : sp.known.name(c.sha256)));
    // The primary stats the file every 100 ms: it may see a short removal the check's polls missed.
    if (declared === "keep" && duringOutage.length > 0 && watched.problems.length === 0) {
      problems.push(`the primary's own record shows the file changed during the outage (${duringOutage.join(" → ")})`);
    }

    // Recovery: a rotation written once the store is back.
    let recovery: { label: string; reachedAfterMs: number | null; primarySaw: string } | null = null;
    if (rotatesAtAll) {
      const second = await rotate(sp, 2);
      const wait = await waitForValue(sp, second.sha, boundMs, second.writtenAtMs);
      recovery = { label: second.label, reachedAfterMs: wait.reached ? roundMs(wait.afterMs) : null, primarySaw: sp.known.describe(wait.last.current) };
      if (!wait.reached) problems.push(`after the store returned, ${second.label} had not reached the primary within ${boundMs} ms (the file held ${recovery.primarySaw})`);
    }
    const restart = await primaryAfter(sp, before);
    problems.push(...restart.problems);
    const lastView = await primaryView(sp);

    const evidence = {
      declared,
      boundMs,
      outageMs: roundMs(upAtMs - downAtMs, 0),
      beforeOutage: rotatesAtAll ? `${first.label} in the primary's file ${roundMs(firstWait.afterMs, 0)} ms after the store write` : `${first.label} not in the primary's file within ${boundMs} ms`,
      kept: sp.known.describe(kept),
      ...watched.evidence,
      recovery,
      primaryChangesSinceOutage: describeChanges(sp, lastView, downEpochMs),
      primary: { before, after: restart.after },
      ...secretsPodEvidence(sp),
    };
    const rule = declared === "keep" ? "keep the last value throughout the outage" : `remove the file within ${boundMs} ms of the outage and keep it away until the store returned`;
    if (problems.length > 0) {
      return { verdict: "failed", message: `expected the sidecar, which declares whenStoreDown ${declared}, to ${rule}, the primary not restarted, and to recover after; found ${problems.join("; ")}`, evidence };
    }
    const outcome = `during a ${roundMs(upAtMs - downAtMs, 0)} ms store outage the sidecar did as it declares (${declared}: ${watched.summary}), the primary was not restarted`;
    if (!recovery) {
      return {
        verdict: "skipped",
        message: `${outcome}; its recovery could not be judged: ${first.label} written before the outage had not reached the primary within ${boundMs} ms (secrets.rotation-reaches-primary's rule)`,
        evidence,
      };
    }
    return { verdict: "passed", message: `${outcome}, and after the store returned ${recovery.label} reached the primary in ${recovery.reachedAfterMs} ms (policy ≤ ${boundMs} ms)`, evidence };
  },
};

interface OutageWatch {
  problems: string[];
  /** One clause for the pass message. */
  summary: string;
  evidence: Record<string, unknown>;
  last: PrimarySecretView;
}

/** keep: until `untilMs`, every poll finds the file with the value it held when the store went down. */
async function watchKeep(sp: SecretsPod, keptSha: string | null, untilMs: number): Promise<OutageWatch> {
  let last = await primaryView(sp);
  const startMs = performance.now();
  let polls = 0;
  let deviating = 0;
  let firstDeviation: string | null = null;
  const seen = new Set<string>();
  // Bounded: one poll per SECRET_POLL_MS until the outage's end.
  const maxPolls = Math.ceil((untilMs - startMs) / SECRET_POLL_MS) + 1;
  for (; polls < maxPolls && performance.now() < untilMs; polls++) {
    last = await primaryView(sp);
    if (!last.current.exists || last.current.sha256 !== keptSha) {
      deviating++;
      const state = sp.known.describe(last.current);
      seen.add(state);
      firstDeviation ??= `${roundMs(performance.now() - startMs, 0)} ms into it`;
    }
    await pause(Math.max(0, Math.min(SECRET_POLL_MS, untilMs - performance.now())), sp.context.signal);
  }
  const kept = sp.known.name(keptSha);
  const problems = deviating > 0 ? [`during the outage the primary's file was ${[...seen].join(", then ")} on ${deviating} of ${polls} polls (first ${firstDeviation}) instead of ${kept}`] : [];
  return { problems, summary: `the file kept ${kept} on ${polls} polls`, evidence: { pollsDuringOutage: polls, pollsNotKept: deviating, firstNotKept: firstDeviation, statesSeen: [...seen] }, last };
}

/**
 * remove: the file gone within `boundMs` of the outage's start; the outage lasts
 * `outageMs`, or until the file went if that is later; the file stays gone until its end.
 */
async function watchRemove(sp: SecretsPod, downAtMs: number, outageMs: number, boundMs: number): Promise<OutageWatch> {
  let last = await primaryView(sp);
  let goneAfterMs: number | null = null;
  const reappeared: string[] = [];
  const deadlineMs = downAtMs + Math.max(outageMs, boundMs);
  const maxPolls = Math.ceil(Math.max(outageMs, boundMs) / SECRET_POLL_MS) + 1;
  for (let poll = 0; poll < maxPolls; poll++) {
    const now = performance.now();
    // The outage ends at outageMs once the file is gone, else at the removal bound.
    if (now >= (goneAfterMs === null ? deadlineMs : downAtMs + outageMs)) break;
    last = await primaryView(sp);
    if (!last.current.exists) goneAfterMs ??= performance.now() - downAtMs;
    else if (goneAfterMs !== null && reappeared.length < 5) reappeared.push(`+${roundMs(performance.now() - downAtMs, 0)} ms: ${sp.known.describe(last.current)}`);
    await pause(SECRET_POLL_MS, sp.context.signal);
  }
  const problems: string[] = [];
  if (goneAfterMs === null) problems.push(`the file was still there ${boundMs} ms into the outage (${sp.known.describe(last.current)})`);
  if (reappeared.length > 0) problems.push(`after it was removed the file came back during the outage (${reappeared.join(", ")})`);
  return {
    problems,
    summary: goneAfterMs !== null ? `the file was gone ${roundMs(goneAfterMs, 0)} ms into the outage and stayed gone` : "the file stayed",
    evidence: { removedAfterMs: goneAfterMs !== null ? roundMs(goneAfterMs) : null, reappeared },
    last,
  };
}
