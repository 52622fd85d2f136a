// The exact text of the primary's lines the checks know (reference/primaries/fastapi-kserve:
// access_log.py, log_control.py): a request's line, a burst line, the shutdown line. What
// only the primary knew — the line's `ts` and a request's `duration_ms` — is taken from the
// received line; everything else, the key order and the encoding come from what the check
// sent, so a line that arrives changed anywhere else differs from the expected text.
import type { ReceivedLine } from "./line-analysis.ts";
import { encodeLikePrimary, integerTree, member, stringMember, type JsonTree } from "./primary-json.ts";

/** A request the check sent and the answer it got: what the primary logs of it. */
export interface SentRequest {
  requestId: string;
  method: string;
  path: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
}

/** What a POST /v2/debug/log/burst asked for and answered. */
export interface Burst {
  msg: string;
  padBytes: number;
  firstSeq: number;
  lastSeq: number;
}

type Entries = Array<[string, JsonTree]>;

/** The `run` first, as the primary's tag_run splices it in front of every line. */
function line(runId: string, entries: Entries): string {
  return encodeLikePrimary({ object: [["run", runId], ...entries] });
}

function receivedTs(received: ReceivedLine): string {
  return stringMember(received.tree, "ts") ?? "";
}

/** access_log.py: ts, seq, method, path, status, duration_ms, bytes_in, bytes_out, then x-request-id as request_id. */
export function requestLineText(runId: string, received: ReceivedLine, sent: SentRequest): string {
  const duration = member(received.tree, "duration_ms");
  const durationTree = duration !== undefined && duration !== null && typeof duration === "object" && "number" in duration ? duration : { number: "null" };
  return line(runId, [
    ["ts", receivedTs(received)],
    ["seq", integerTree(received.seq)],
    ["method", sent.method],
    ["path", sent.path],
    ["status", integerTree(sent.status)],
    ["duration_ms", durationTree],
    ["bytes_in", integerTree(sent.bytesIn)],
    ["bytes_out", integerTree(sent.bytesOut)],
    ["request_id", sent.requestId],
  ]);
}

/** log_control.py's burst line: padded with "x" until the line without its run is ≥ pad_bytes bytes. */
export function burstLineText(runId: string, seq: number, ts: string, burst: Pick<Burst, "msg" | "padBytes">): string {
  const fields = (pad: string): Entries => [
    ["ts", ts],
    ["seq", integerTree(seq)],
    ["event", "burst"],
    ["msg", burst.msg],
    ["pad", pad],
  ];
  const unpadded = Buffer.byteLength(encodeLikePrimary({ object: fields("") }));
  return line(runId, fields("x".repeat(Math.max(0, burst.padBytes - unpadded))));
}

export function shutdownLineText(runId: string, seq: number, ts: string): string {
  return line(runId, [
    ["ts", ts],
    ["seq", integerTree(seq)],
    ["event", "shutdown"],
  ]);
}

/**
 * The expected text of a received line, when it is one the check made: a request it sent
 * (by its x-request-id), a line of one of its bursts (by seq: a line in a burst's range
 * that is not a request's), or the shutdown line.
 */
export function expectedTextOf(runId: string, made: { requests?: ReadonlyMap<string, SentRequest>; bursts?: readonly Burst[] }): (received: ReceivedLine) => string | undefined {
  return (received) => {
    const requestId = stringMember(received.tree, "request_id");
    if (requestId !== undefined) {
      const sent = made.requests?.get(requestId);
      return sent === undefined ? undefined : requestLineText(runId, received, sent);
    }
    if (member(received.tree, "method") !== undefined) return undefined; // a request of someone else (a probe)
    const burst = made.bursts?.find((b) => received.seq >= b.firstSeq && received.seq <= b.lastSeq);
    if (burst !== undefined) return burstLineText(runId, received.seq, receivedTs(received), burst);
    if (stringMember(received.tree, "event") === "shutdown") return shutdownLineText(runId, received.seq, receivedTs(received));
    return undefined;
  };
}
