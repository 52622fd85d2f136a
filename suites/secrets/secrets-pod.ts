// The steps the secrets checks share on a pod of the sidecar: the store (the role backend's
// KV v2 port, written through the real API), the primary's view of its file, waits for a
// value to reach it, the primary's identity (a rotation must not restart it), and log tails
// for evidence with every secret of the check redacted.
import { performance } from "node:perf_hooks";
import type { ConformanceContext, PodOptions } from "../../harness/conformance/conformance-test.ts";
import type { StartedPod } from "../../harness/runtime/pod-runtime.ts";
import { BACKEND_CONTAINER, SECRET_KEY, SECRET_PATH, STORE_TOKEN } from "../../harness/scenario/role-wiring.ts";
import { PRIMARY_CONTAINER } from "../../harness/scenario/index.ts";
import { waitFor } from "../support/bounded-wait.ts";
import { containerStatus, formatEvents, logTail, sidecarContainer } from "../support/pod-evidence.ts";
import { primaryIdentity } from "../support/primary-debug.ts";
import { RoleBackend } from "../support/role-backend.ts";
import { LeakMatcher } from "../support/secret-scan.ts";
import { SEEDED_LABEL, rotatedSecret, rotationLabel, secretFamily } from "../support/secret-values.ts";
import { roundMs } from "../support/timed-request.ts";
import { KnownValues, primarySecret, type PrimarySecretView } from "./primary-secret.ts";

/** How often the checks ask the primary (which itself stats the file every 100 ms). */
export const SECRET_POLL_MS = 50;

export interface SecretsPod {
  context: ConformanceContext;
  pod: StartedPod;
  backend: RoleBackend;
  direct: string;
  sidecar: string;
  known: KnownValues;
  /** sha256 of the seeded secret. */
  seededSha: string;
  /** Every value of the check's family, for redaction. */
  redactor: LeakMatcher;
}

export async function startSecretsPod(context: ConformanceContext, options: PodOptions = {}): Promise<SecretsPod> {
  const pod = await context.startPod(options);
  // RoleBackend's own request bound (10 s): taking the store down waits up to 2 s for the connections it resets.
  const backend = new RoleBackend(pod.url(BACKEND_CONTAINER, "control"), pod.url(BACKEND_CONTAINER, "vault"), { signal: context.signal });
  const known = new KnownValues();
  const seededSha = known.add(SEEDED_LABEL, context.secretValue);
  return { context, pod, backend, direct: context.directUrl(pod), sidecar: sidecarContainer(context), known, seededSha, redactor: new LeakMatcher(secretFamily(context.secretValue)) };
}

export function primaryView(sp: SecretsPod): Promise<PrimarySecretView> {
  return primarySecret(sp.direct, { timeoutMs: sp.context.config.requestTimeoutMs, signal: sp.context.signal });
}

export interface ValueWait {
  reached: boolean;
  /** From the wait's start (for a rotation: from just before the store write) to the poll that saw the value. */
  afterMs: number;
  /** The primary's last answer. */
  last: PrimarySecretView;
}

/** Polls the primary until its file holds the value whose sha256 is `sha`, at most `timeoutMs` after `sinceMs`. */
export async function waitForValue(sp: SecretsPod, sha: string, timeoutMs: number, sinceMs = performance.now()): Promise<ValueWait> {
  let last = await primaryView(sp);
  const holds = () => last.current.exists && last.current.sha256 === sha;
  const reached =
    holds() ||
    (await waitFor(
      async () => {
        last = await primaryView(sp);
        return holds();
      },
      { timeoutMs: Math.max(0, sinceMs + timeoutMs - performance.now()), intervalMs: SECRET_POLL_MS, signal: sp.context.signal },
    ));
  return { reached, afterMs: performance.now() - sinceMs, last };
}

export interface Rotation {
  n: number;
  label: string;
  sha: string;
  /** The store's version after the write. */
  version: number;
  /** performance.now() just before the write was sent. */
  writtenAtMs: number;
}

/** Writes rotation n of the check's secret through the store's KV v2 API (PUT secret/data/…). */
export async function rotate(sp: SecretsPod, n: number): Promise<Rotation> {
  const value = rotatedSecret(sp.context.secretValue, n);
  const label = rotationLabel(n);
  const sha = sp.known.add(label, value);
  const writtenAtMs = performance.now();
  const { version } = await sp.backend.putSecret(SECRET_PATH, { [SECRET_KEY]: value }, STORE_TOKEN);
  return { n, label, sha, version, writtenAtMs };
}

export interface PrimaryIdentitySnapshot {
  pid: number;
  restartCount: number;
}

export async function primarySnapshot(sp: SecretsPod): Promise<PrimaryIdentitySnapshot> {
  const identity = await primaryIdentity(sp.direct, sp.context.signal);
  return { pid: identity.pid, restartCount: containerStatus(sp.pod, PRIMARY_CONTAINER).restartCount };
}

/** What changed of the primary's process between two snapshots, one sentence each. */
export function primaryRestartProblems(before: PrimaryIdentitySnapshot, after: PrimaryIdentitySnapshot): string[] {
  const problems: string[] = [];
  if (after.restartCount !== before.restartCount) problems.push(`the primary was restarted (restart count ${before.restartCount} → ${after.restartCount})`);
  else if (after.pid !== before.pid) problems.push(`the primary's process changed (pid ${before.pid} → ${after.pid})`);
  return problems;
}

/** The primary's identity now, or the reason it cannot be had (it is down), as a problem. */
export async function primaryAfter(sp: SecretsPod, before: PrimaryIdentitySnapshot): Promise<{ after: PrimaryIdentitySnapshot | null; problems: string[] }> {
  try {
    const after = await primarySnapshot(sp);
    return { after, problems: primaryRestartProblems(before, after) };
  } catch (error) {
    return { after: null, problems: [`the primary did not answer: ${(error as Error).message}`] };
  }
}

/** The last lines of a container, every secret of the check redacted. */
export function redactedTail(sp: SecretsPod, container: string, maxLines = 15): string[] {
  return logTail(sp.pod, container, maxLines).map((line) => sp.redactor.redact(line, 1_000));
}

/** Events, the sidecar's and the primary's last lines (redacted) and the sidecar's restarts. */
export function secretsPodEvidence(sp: SecretsPod): Record<string, unknown> {
  return {
    sidecarRestarts: containerStatus(sp.pod, sp.sidecar).restartCount,
    events: formatEvents(sp.pod.events()),
    sidecarLog: redactedTail(sp, sp.sidecar),
    primaryLog: redactedTail(sp, PRIMARY_CONTAINER, 5),
  };
}

/** The primary's changes as evidence: "+812 ms: rotation 1" relative to `originEpochMs`, at most `max`. */
export function describeChanges(sp: SecretsPod, view: PrimarySecretView, originEpochMs: number, max = 20): string[] {
  const lines = view.changes.map((c) => `${c.atMs - originEpochMs >= 0 ? "+" : ""}${roundMs(c.atMs - originEpochMs, 0)} ms: ${c.sha256 === null ? "absent or unreadable" : sp.known.name(c.sha256)}`);
  return lines.length > max ? [...lines.slice(0, max), `… ${lines.length - max} more`] : lines;
}
