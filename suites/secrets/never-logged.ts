// secrets.never-logged: the secret — the check's random seed and the rotations it writes —
// never appears in any container's log (the sidecar's, the primary's, the store's), over a
// pod's life that makes a sidecar talk: the first fetch, a rotation, a store outage (error
// paths love to dump requests and responses), a rotation after the store returns, and the
// stop. Every container's whole log is scanned after the stop (the runtime's log file when
// it keeps one, else the lines it holds) for any 16-character run of the value raw, JSON-,
// URL- or HTML-escaped, hex or base64/base64url at any alignment (suites/support/secret-scan.ts).
// Evidence names container, line, column, which value and which form — the lines shown are
// redacted, never the value.
import { existsSync, readFileSync } from "node:fs";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import type { StartedPod } from "../../harness/runtime/pod-runtime.ts";
import { LOG_TAIL_MAX_LINES } from "../../harness/runtime/logs/log-limits.ts";
import { pause } from "../support/bounded-wait.ts";
import type { LeakMatcher } from "../support/secret-scan.ts";
import { roundMs } from "../support/timed-request.ts";
import { formatEvents } from "../support/pod-evidence.ts";
import { rotate, startSecretsPod, waitForValue } from "./secrets-pod.ts";

/** Leaks listed in the evidence (the count says how many there were). */
const MAX_LEAKS_SHOWN = 10;

export const neverLogged: ConformanceTest = {
  id: "secrets.never-logged",
  description:
    "The secret (the random value seeded in the store and every rotation written) never appears in any container's log over a start, a rotation, a store outage " +
    "(the suite config's backendOutageMs), a rotation after it and the stop — scanned for any 16 consecutive characters of the value raw, escaped, hex or base64.",
  profile: "secrets",
  level: "core",
  primaryServes: ["role-emitters"],
  features: [],
  faultyFixture: "reference/sidecars/logs-secret.yaml",
  // Value, rotation, outage, rotation: ≤ 3 × rotationMs (default 60 s) + the outage + start and stop.
  timeoutMs: 300_000,
  detection: observationClaim("1 pod life (start, rotation, store outage, rotation, stop), every container's whole log scanned"),
  async run(context): Promise<CheckOutcome> {
    const boundMs = context.policy.secrets.rotationMs;
    const sp = await startSecretsPod(context);
    // The values pass through the sidecar: waited for so that what it logs of them is in the log (not judged here).
    const delivered: string[] = [];
    const initial = await waitForValue(sp, sp.seededSha, boundMs);
    if (initial.reached) delivered.push("the seeded secret");
    const first = await rotate(sp, 1);
    const firstWait = await waitForValue(sp, first.sha, boundMs, first.writtenAtMs);
    if (firstWait.reached) delivered.push(first.label);
    await sp.backend.setState("vault", "down");
    try {
      await pause(context.config.backendOutageMs, context.signal);
    } finally {
      await sp.backend.setState("vault", "up");
    }
    // After the outage only if the sidecar rotates at all (a second bound's wait would tell nothing more).
    if (firstWait.reached) {
      const second = await rotate(sp, 2);
      if ((await waitForValue(sp, second.sha, boundMs, second.writtenAtMs)).reached) delivered.push(second.label);
    }
    const stopped = await sp.pod.stop();

    const scans = sp.pod.spec.containers.map((c) => scanContainer(sp.pod, c.name, sp.redactor));
    const leaks = scans.flatMap((s) => s.leaks);
    const unscanned = scans.filter((s) => s.droppedBytes > 0 || s.partial);
    const evidence = {
      boundMs,
      outageMs: context.config.backendOutageMs,
      deliveredToPrimary: delivered,
      scanned: Object.fromEntries(scans.map((s) => [s.container, { source: s.source, lines: s.lines, droppedBytes: s.droppedBytes, leakingLines: s.leaks.length }])),
      leaks: leaks.slice(0, MAX_LEAKS_SHOWN),
      stop: stopped.containers,
      events: formatEvents(sp.pod.events()),
    };
    if (leaks.length > 0) {
      const where = leaks
        .slice(0, 3)
        .map((l) => `${l.secret} (${l.form}) in ${l.container}'s log line ${l.line}`)
        .join(", ");
      const containers = [...new Set(leaks.map((l) => l.container))];
      return {
        verdict: "failed",
        message: `expected no secret in any container's log; found ${leaks.length} line(s) with one in ${containers.join(", ")}: ${where}${leaks.length > 3 ? ", …" : ""}`,
        evidence,
      };
    }
    const scannedLines = scans.reduce((sum, s) => sum + s.lines, 0);
    if (unscanned.length > 0) {
      return {
        verdict: "skipped",
        message:
          `no secret in the ${scannedLines} log lines scanned, but not every line could be: ` +
          unscanned.map((s) => (s.droppedBytes > 0 ? `${s.container}'s log dropped ${s.droppedBytes} bytes (the runtime's cap)` : `only ${s.container}'s last ${s.lines} lines were kept`)).join("; "),
        evidence,
      };
    }
    if (delivered.length === 0) {
      return {
        verdict: "skipped",
        message: `no secret in the ${scannedLines} log lines scanned, but none reached the primary's file either: a sidecar that never fetched the secret had none to leak`,
        evidence,
      };
    }
    return {
      verdict: "passed",
      message: `no secret in any of the ${scans.length} containers' logs (${scannedLines} lines, scanned whole after the stop) over a start, ${delivered.length} value(s) delivered to the primary (${delivered.join(", ") || "none"}), a ${roundMs(context.config.backendOutageMs, 0)} ms store outage and the stop`,
      evidence,
    };
  },
};

interface ContainerScan {
  container: string;
  source: string;
  lines: number;
  droppedBytes: number;
  /** True when only the runtime's in-memory tail could be read and it was full (earlier lines may be missing). */
  partial: boolean;
  leaks: Array<{ container: string; line: number; column: number; secret: string; form: string; excerpt: string }>;
}

/** The container's whole log: its file when the runtime keeps one, else the lines it holds. */
function scanContainer(pod: StartedPod, container: string, matcher: LeakMatcher): ContainerScan {
  const usage = pod.logUsage?.(container) ?? null;
  let lines: string[];
  let source: string;
  let partial = false;
  if (usage && existsSync(usage.file)) {
    lines = readFileSync(usage.file).toString("utf8").split("\n");
    source = "log file";
  } else {
    lines = pod.logs(container, LOG_TAIL_MAX_LINES);
    source = "runtime's log lines";
    partial = lines.length >= LOG_TAIL_MAX_LINES;
  }
  const leaks = matcher.scanLines(lines).map((leak) => ({ container, ...leak, excerpt: matcher.redact(lines[leak.line - 1] ?? "") }));
  return { container, source, lines: lines.length, droppedBytes: usage?.droppedBytes ?? 0, partial, leaks };
}

