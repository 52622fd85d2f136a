// What arrived at the backend, judged against what the primary wrote: every expected line
// exactly once, in the order written, byte for byte. Pure functions of the backend's
// records, so the rules are unit-tested without pods.
//
// A line is identified by its `seq` (the primary numbers every line of its access log,
// one sequence across requests, bursts and its shutdown line) and must carry the pod's
// `run`. A shipper may frame, batch and wrap lines as it likes; what the backend records
// as the message (the syslog MSG, the OTLP string body) must be the line itself. One
// trailing "\n" is taken as framing (a shipper that keeps the line's newline in the body).
import { firstDifference } from "../support/byte-diff.ts";
import type { ReceivedLogRecord } from "../support/role-backend.ts";
import { encodeLikePrimary, integerMember, JsonSyntaxError, parseKeepingNumbers, stringMember, type JsonTree } from "./primary-json.ts";

/** How many items of each kind the evidence lists. */
const EVIDENCE_ITEMS = 8;
const EXCERPT_CHARS = 160;
const DIFF_CONTEXT_CHARS = 20;

export interface ReceivedLine {
  /** The record's index at the backend (arrival order). */
  index: number;
  seq: number;
  /** The message, without one trailing "\n". */
  text: string;
  tree: JsonTree;
  receivedMs: number;
}

/** A record that is not a line of this pod's primary (cut, mangled, or from elsewhere). */
export interface ForeignRecord {
  index: number;
  why: string;
  excerpt: string;
  bytes: number;
  /** It holds this pod's run id: a broken copy of one of the primary's lines, not a record of the shipper's own. */
  mentionsRun: boolean;
}

export interface Arrivals {
  lines: ReceivedLine[];
  foreign: ForeignRecord[];
}

export function parseArrivals(records: readonly ReceivedLogRecord[], runId: string): Arrivals {
  const lines: ReceivedLine[] = [];
  const foreign: ForeignRecord[] = [];
  for (const record of records) {
    const text = record.message.endsWith("\n") ? record.message.slice(0, -1) : record.message;
    const reject = (why: string) => foreign.push({ index: record.index, why, excerpt: excerpt(text), bytes: Buffer.byteLength(text), mentionsRun: text.includes(runId) });
    if (record.partial) {
      reject("a frame cut short (the connection closed in the middle of it)");
      continue;
    }
    if (record.invalidUtf8) {
      reject("not valid UTF-8");
      continue;
    }
    let tree: JsonTree;
    try {
      tree = parseKeepingNumbers(text);
    } catch (error) {
      reject(`not one JSON value: ${error instanceof JsonSyntaxError ? error.message : String(error)}`);
      continue;
    }
    const seq = integerMember(tree, "seq");
    const run = stringMember(tree, "run");
    if (seq === undefined) reject('no integer "seq": not an access-log line of the primary');
    else if (run !== runId) reject(`"run" is ${JSON.stringify(run ?? null)}, not this pod's ${JSON.stringify(runId)}`);
    else lines.push({ index: record.index, seq, text, tree, receivedMs: record.receivedMs });
  }
  return { lines, foreign };
}

export interface ExpectedLines {
  /** Seqs that must each arrive exactly once (any order here; arrival order is judged on seq). */
  seqs: readonly number[];
  /**
   * The exact text a received line must be, where the check knows it; built from the
   * received line itself for what only the primary knew (its `ts`, a `duration_ms`).
   */
  expectedText?: (line: ReceivedLine) => string | undefined;
}

export interface LineDifference {
  seq: number;
  index: number;
  /** Where the UTF-8 of the two texts first differs, and their lengths in bytes. */
  byteOffset: number;
  writtenBytes: number;
  receivedBytes: number;
  /** A few characters either side of the first difference, as JSON strings. */
  written: string;
  received: string;
}

export interface DeliveryReport {
  expected: number;
  /** Expected lines that arrived at least once. */
  arrived: number;
  missing: number;
  /** Seqs that never arrived, as ranges ("12–40, 55"), the first few. */
  firstMissing: string;
  /** Extra arrivals of any line of the run (a line twice counts once). */
  duplicates: number;
  firstDuplicates: Array<{ seq: number; times: number }>;
  /** Lines that arrived after a line written later. */
  outOfOrder: number;
  firstOutOfOrder: Array<{ seq: number; arrivedAfter: number }>;
  /** Lines whose text differs from what the primary wrote. */
  differing: number;
  firstDiffering: LineDifference | null;
  /** Lines not in the primary's encoding (re-formatted: whitespace, escapes). */
  reencoded: number;
  firstReencoded: LineDifference | null;
  /** Records that are no line of the primary's: all of them, and those holding this run's id (the ones that fail). */
  foreign: number;
  foreignOfRun: number;
  firstForeign: ForeignRecord[];
}

export function analyseDelivery(arrivals: Arrivals, expected: ExpectedLines): DeliveryReport {
  const times = new Map<number, number>();
  let maxSeq = Number.NEGATIVE_INFINITY;
  const outOfOrder: Array<{ seq: number; arrivedAfter: number }> = [];
  let differing = 0;
  let firstDiffering: LineDifference | null = null;
  let reencoded = 0;
  let firstReencoded: LineDifference | null = null;
  for (const line of arrivals.lines) {
    const seen = times.get(line.seq) ?? 0;
    times.set(line.seq, seen + 1);
    if (seen === 0 && line.seq < maxSeq) outOfOrder.push({ seq: line.seq, arrivedAfter: maxSeq });
    maxSeq = Math.max(maxSeq, line.seq);
    const want = expected.expectedText?.(line);
    if (want !== undefined && want !== line.text) {
      differing++;
      firstDiffering ??= lineDifference(line, want);
    }
    const canonical = encodeLikePrimary(line.tree);
    if (canonical !== line.text) {
      reencoded++;
      firstReencoded ??= lineDifference(line, canonical);
    }
  }
  const missing = expected.seqs.filter((seq) => !times.has(seq));
  const duplicates = [...times.entries()].filter(([, n]) => n > 1).map(([seq, n]) => ({ seq, times: n }));
  return {
    expected: expected.seqs.length,
    arrived: expected.seqs.length - missing.length,
    missing: missing.length,
    firstMissing: seqRanges(missing),
    duplicates: duplicates.reduce((sum, d) => sum + d.times - 1, 0),
    firstDuplicates: duplicates.sort((a, b) => a.seq - b.seq).slice(0, EVIDENCE_ITEMS),
    outOfOrder: outOfOrder.length,
    firstOutOfOrder: outOfOrder.slice(0, EVIDENCE_ITEMS),
    differing,
    firstDiffering,
    reencoded,
    firstReencoded,
    foreign: arrivals.foreign.length,
    foreignOfRun: arrivals.foreign.filter((f) => f.mentionsRun).length,
    firstForeign: arrivals.foreign.slice(0, EVIDENCE_ITEMS),
  };
}

/** Every way the delivery broke the rule, one sentence each; [] when every expected line arrived once, in order, intact. */
export function deliveryProblems(report: DeliveryReport): string[] {
  const problems: string[] = [];
  if (report.missing > 0) problems.push(`${report.missing} of ${report.expected} lines never arrived (seq ${report.firstMissing})`);
  if (report.duplicates > 0) {
    problems.push(`${report.duplicates} lines arrived more than once (${report.firstDuplicates.map((d) => `seq ${d.seq} ×${d.times}`).join(", ")})`);
  }
  if (report.outOfOrder > 0) {
    problems.push(`${report.outOfOrder} lines arrived after a line written later (${report.firstOutOfOrder.map((o) => `seq ${o.seq} after ${o.arrivedAfter}`).join(", ")})`);
  }
  // Records of the shipper's own (its logs, heartbeats) are legitimate and only reported;
  // a record that carries this run's id but is no intact line is a broken copy of one.
  if (report.foreignOfRun > 0) {
    const first = report.firstForeign.find((f) => f.mentionsRun) ?? report.firstForeign[0]!;
    problems.push(`${report.foreignOfRun} records at the backend hold this run's id but are not lines the primary wrote (record ${first.index}, ${first.bytes} bytes: ${first.why}: ${first.excerpt})`);
  }
  if (report.differing > 0) problems.push(`${report.differing} lines arrived changed (${describeDifference(report.firstDiffering!)})`);
  else if (report.reencoded > 0) problems.push(`${report.reencoded} lines arrived re-encoded, not as the primary wrote them (${describeDifference(report.firstReencoded!)})`);
  return problems;
}

export function describeDifference(d: LineDifference): string {
  return `seq ${d.seq}: first difference at byte ${d.byteOffset} of ${d.writtenBytes} written, ${d.receivedBytes} received: written …${d.written}…, received …${d.received}…`;
}

/** "3–7, 12, 40–41" for the first `maxRanges` runs of consecutive seqs (and how many more). */
export function seqRanges(seqs: readonly number[], maxRanges = EVIDENCE_ITEMS): string {
  const sorted = [...new Set(seqs)].sort((a, b) => a - b);
  const ranges: string[] = [];
  let start = 0;
  for (let i = 1; i <= sorted.length; i++) {
    if (i < sorted.length && sorted[i] === sorted[i - 1]! + 1) continue;
    ranges.push(start === i - 1 ? `${sorted[start]}` : `${sorted[start]}–${sorted[i - 1]}`);
    start = i;
  }
  const shown = ranges.slice(0, maxRanges).join(", ");
  return ranges.length > maxRanges ? `${shown} and ${ranges.length - maxRanges} more ranges` : shown;
}

/** Seqs from..to inclusive. */
export function seqRange(from: number, to: number): number[] {
  return to < from ? [] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function lineDifference(line: ReceivedLine, expected: string): LineDifference {
  const bytes = firstDifference(Buffer.from(expected), Buffer.from(line.text), 0);
  let at = 0;
  while (at < expected.length && at < line.text.length && expected[at] === line.text[at]) at++;
  const around = (text: string) => JSON.stringify(text.slice(Math.max(0, at - DIFF_CONTEXT_CHARS), at + DIFF_CONTEXT_CHARS));
  return {
    seq: line.seq,
    index: line.index,
    byteOffset: bytes?.offset ?? 0,
    writtenBytes: Buffer.byteLength(expected),
    receivedBytes: Buffer.byteLength(line.text),
    written: around(expected),
    received: around(line.text),
  };
}

function excerpt(text: string): string {
  return text.length > EXCERPT_CHARS ? `${JSON.stringify(text.slice(0, EXCERPT_CHARS))}… (${text.length} characters)` : JSON.stringify(text);
}

/** How long after the primary wrote them (its `ts`) the lines were at the backend: median and largest, ms. */
export function deliveryLatencyMs(lines: readonly ReceivedLine[]): { median: number; max: number } | null {
  const delays = lines.flatMap((line) => {
    const written = Date.parse(stringMember(line.tree, "ts") ?? "");
    return Number.isNaN(written) ? [] : [line.receivedMs - written];
  });
  if (delays.length === 0) return null;
  delays.sort((a, b) => a - b);
  return { median: Math.round(delays[Math.floor(delays.length / 2)]!), max: Math.round(delays[delays.length - 1]!) };
}
