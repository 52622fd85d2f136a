// logs.long-and-unicode-lines: lines a shipper's line buffer or decoder may damage arrive
// intact: long lines (longLineBytes, past the 16 KiB at which many shippers split or cut a
// line), and lines whose JSON has escapes (quotes, backslashes, a newline and a tab inside a
// string, control characters) and non-ASCII text (accents, CJK, emoji, a flag, right-to-left
// script, a lone combining mark, U+2028/U+2029). Each must be byte for byte the line the
// primary wrote (its `ts` taken from the line, the rest known from the burst the check asked
// for) — so parsed, its values are what was sent, and raw, its text is the primary's.
// Anchor: Vector's correctness harness, "wrapped JSON" and its line-length cases.
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import { logTail, sidecarContainer } from "../support/pod-evidence.ts";
import { roundMs } from "../support/timed-request.ts";
import type { Burst } from "./expected-lines.ts";
import { expectedTextOf } from "./expected-lines.ts";
import { analyseDelivery, deliveryProblems, seqRange } from "./line-analysis.ts";
import { BackendLogs, PrimaryLog, roleBackend } from "./log-pod.ts";

/** The `msg` of the escape and non-ASCII lines: one case per burst. */
export const UNICODE_CASES: readonly string[] = [
  'double "quotes" and a \'single\' one',
  "backslashes \\ \\\\ and a Windows path C:\\temp\\new",
  "a newline\ninside, a tab\tand a carriage return\r here",
  "control characters \u0000 \u0001 \u0008 \u000c \u001b \u001f and DEL \u007f",
  "accents: é à ü ñ ø Å ç",
  "中文字符, 日本語のテキスト, 한국어",
  "emoji 😀🚀🧪 and a flag 🇫🇷 and a family 👨‍👩‍👧",
  "a lone combining mark \u0301 after a space, and e\u0301 decomposed",
  "right-to-left: שלום and مرحبا",
  "line and paragraph separators \u2028 \u2029 and a BOM \ufeff inside",
  'all at once: é "中" \\ \n 😀 \u0000',
];
/** The long lines' message: non-ASCII too, so a cut can land inside a character. */
const LONG_MSG = "a long line: é 中 😀 — padded with x to longLineBytes";

export const longAndUnicodeLines: ConformanceTest = {
  id: "logs.long-and-unicode-lines",
  description:
    "Lines of longLineBytes (≥ 16 KiB) and lines whose JSON has escapes (quotes, backslashes, \\n and \\t inside strings, control characters) and non-ASCII " +
    "text (accents, CJK, emoji, right-to-left script, a lone combining mark) arrive once, in order, byte for byte as the primary wrote them, within the policy's logs.deliveryDelayMs.",
  profile: "logs",
  level: "core",
  primaryServes: ["role-emitters"],
  features: [],
  faultyFixture: "reference/sidecars/split-long-lines.yaml",
  timeoutMs: 60_000,
  detection: exchangeClaim(DEFAULT_SUITE_CONFIG.triesPerExpectation, "line of each kind (long; escapes and non-ASCII, the cases in turn), compared byte for byte"),
  async run(context): Promise<CheckOutcome> {
    const sidecar = sidecarContainer(context);
    const deliveryDelayMs = context.policy.logs.deliveryDelayMs;
    const tries = context.config.triesPerExpectation;
    const pod = await context.startPod();
    const primary = PrimaryLog.of(pod, context.signal);
    const { run } = await primary.state();
    const bursts: Burst[] = [await primary.burst({ lines: tries, msg: LONG_MSG, padBytes: context.config.longLineBytes })];
    const perCase = Math.ceil(tries / UNICODE_CASES.length);
    for (const msg of UNICODE_CASES) bursts.push(await primary.burst({ lines: perCase, msg }));
    const first = bursts[0]!.firstSeq;
    const last = bursts[bursts.length - 1]!.lastSeq;
    const backend = new BackendLogs(roleBackend(pod, context.signal), run);
    const expected = seqRange(first, last);
    const deliveredMs = await backend.waitForSeqs(expected, deliveryDelayMs, context.signal);
    const report = analyseDelivery(backend.arrivals(), { seqs: expected, expectedText: expectedTextOf(run, { bursts }) });
    const problems = deliveryProblems(report);
    const evidence = {
      run,
      longLines: { lines: tries, bytes: context.config.longLineBytes, seqs: [bursts[0]!.firstSeq, bursts[0]!.lastSeq] },
      unicodeLines: bursts.slice(1).map((b) => ({ msg: b.msg, seqs: [b.firstSeq, b.lastSeq] })),
      deliveredAfterLastWriteMs: deliveredMs === null ? null : roundMs(deliveredMs),
      deliveryDelayMs,
      recordsAtBackend: backend.count,
      droppedByBackend: backend.droppedByBackend,
      report,
      sidecarLog: logTail(pod, sidecar),
    };
    const what = `${tries} lines of ${context.config.longLineBytes} bytes and ${perCase * UNICODE_CASES.length} with escapes and non-ASCII (seq ${first}–${last})`;
    if (problems.length > 0) {
      return { verdict: "failed", message: `expected ${what} once each, in order, byte for byte, within ${deliveryDelayMs} ms; ${problems.join("; ")}`, evidence };
    }
    return { verdict: "passed", message: `${what} arrived once each, in order, byte for byte, ${roundMs(deliveredMs ?? 0, 0)} ms after the last was written`, evidence };
  },
};
