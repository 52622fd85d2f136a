// secrets.present-before-primary: when the primary starts, its secret file is already
// there, owner-read-only (0400 or stricter) and holding the store's current value. This is
// Vault Agent's injector contract (its init container, or a native sidecar whose startup
// probe waits for the render): the native-sidecar start order makes it checkable — the
// primary starts only once the sidecar's startup probe passed, so a sidecar whose probe
// passes before it has written the file lets the primary start without its key. Judged
// from the primary's own record of the file as it started (GET /v2/debug/secret
// at_startup), and from the pod's events (the sidecar started before the primary).
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { PRIMARY_CONTAINER } from "../../harness/scenario/index.ts";
import { primaryIdentity } from "../support/primary-debug.ts";
import { roundMs } from "../support/timed-request.ts";
import { isStrictMode } from "./primary-secret.ts";
import { describeChanges, primaryView, secretsPodEvidence, startSecretsPod, waitForValue } from "./secrets-pod.ts";

/** Evidence only: how long to watch for a file missing at the primary's start to appear (the verdict is already failed). */
const APPEARANCE_WATCH_MS = 5_000;

export const presentBeforePrimary: ConformanceTest = {
  id: "secrets.present-before-primary",
  description:
    "When the primary starts, the secret file the sidecar writes exists, has mode 0400 or stricter (owner read-only at most) and holds the store's " +
    "current value (judged from the primary's own record of the file at its start), and the sidecar was started (startup probe passed) before the primary.",
  profile: "secrets",
  level: "core",
  primaryServes: ["role-emitters", "debug-endpoints"],
  features: [],
  faultyFixture: "reference/sidecars/ready-before-write.yaml",
  timeoutMs: 60_000,
  detection: observationClaim("1 pod start: the primary's record of its secret file as it started"),
  async run(context): Promise<CheckOutcome> {
    const sp = await startSecretsPod(context);
    const first = await primaryView(sp);
    const atStartup = first.atStartup;
    const problems: string[] = [];
    if (!atStartup.exists) problems.push("the file did not exist when the primary started");
    else {
      if (!isStrictMode(atStartup.mode)) problems.push(`the file had mode ${atStartup.mode ?? "unknown"} when the primary started (group or others may use it, or the owner may write it)`);
      if (atStartup.sha256 !== sp.seededSha) problems.push(`the file held ${sp.known.name(atStartup.sha256)} when the primary started, not the store's value`);
    }
    const events = sp.pod.events();
    const sidecarStarted = events.findIndex((e) => e.container === sp.sidecar && e.type === "started");
    const primaryStarting = events.findIndex((e) => e.container === PRIMARY_CONTAINER && e.type === "starting");
    if (sidecarStarted < 0 || primaryStarting < 0 || sidecarStarted > primaryStarting) {
      problems.push("the pod's events do not show the sidecar started (startup probe passed) before the primary was started");
    }

    const identity = await primaryIdentity(sp.direct, context.signal);
    const primaryStartEpochMs = identity.startedAt * 1000;
    // A file missing at the start: how much later it came, if it did (the evidence says what the primary went without).
    const later = problems.length > 0 && !first.current.exists ? (await waitForValue(sp, sp.seededSha, APPEARANCE_WATCH_MS)).last : first;
    const appeared = later.changes.find((c) => c.sha256 === sp.seededSha);
    const evidence = {
      atStartup: sp.known.describe(atStartup),
      current: sp.known.describe(later.current),
      primaryRestarts: sp.pod.status().find((c) => c.name === PRIMARY_CONTAINER)?.restartCount ?? null,
      changesSincePrimaryStart: describeChanges(sp, later, primaryStartEpochMs),
      ...secretsPodEvidence(sp),
    };
    if (problems.length > 0) {
      const late = !atStartup.exists && appeared ? ` (it appeared ${roundMs(appeared.atMs - primaryStartEpochMs, 0)} ms after the primary started, by its own started_at)` : "";
      return {
        verdict: "failed",
        message: `expected the secret file present, mode 0400 or stricter and holding the store's value before the primary started; found ${problems.join("; ")}${late}`,
        evidence,
      };
    }
    return {
      verdict: "passed",
      message: `the primary found its secret file at its start with the store's value and mode ${atStartup.mode}, the sidecar having started before it`,
      evidence,
    };
  },
};
