// The delivery rules on made-up arrivals: missing, duplicated, reordered, changed and
// re-encoded lines, records that are not the primary's lines, and what a dropping
// sidecar is allowed to lose.
import { describe, expect, it } from "vitest";
import type { ReceivedLogRecord } from "../support/role-backend.ts";
import { droppedSpan } from "./backend-outage.ts";
import { burstLineText, expectedTextOf, requestLineText, shutdownLineText, type SentRequest } from "./expected-lines.ts";
import { analyseDelivery, deliveryLatencyMs, deliveryProblems, parseArrivals, seqRange, seqRanges } from "./line-analysis.ts";

const RUN = "run-1";
const TS = "2026-01-01T00:00:00.123456+00:00";

function record(index: number, message: string, extra: Partial<ReceivedLogRecord> = {}): ReceivedLogRecord {
  return { index, via: "syslog", message, receivedMs: Date.parse(TS) + 50, partial: false, invalidUtf8: false, ...extra };
}

/** Burst lines with the given seqs, in the given arrival order. */
function burstRecords(seqs: readonly number[], msg = "m", padBytes = 0): ReceivedLogRecord[] {
  return seqs.map((seq, index) => record(index, burstLineText(RUN, seq, TS, { msg, padBytes })));
}

const expectAll = (seqs: number[]) => ({ seqs, expectedText: expectedTextOf(RUN, { bursts: [{ msg: "m", padBytes: 0, firstSeq: seqs[0]!, lastSeq: seqs[seqs.length - 1]! }] }) });

describe("analyseDelivery", () => {
  it("passes every line once, in order, intact", () => {
    const report = analyseDelivery(parseArrivals(burstRecords([1, 2, 3, 4]), RUN), expectAll([1, 2, 3, 4]));
    expect(deliveryProblems(report)).toEqual([]);
    expect(report.arrived).toBe(4);
  });

  it("names the missing lines as ranges", () => {
    const report = analyseDelivery(parseArrivals(burstRecords([1, 4, 7]), RUN), expectAll(seqRange(1, 8)));
    expect(report.missing).toBe(5);
    expect(report.firstMissing).toBe("2–3, 5–6, 8");
    expect(deliveryProblems(report)[0]).toBe("5 of 8 lines never arrived (seq 2–3, 5–6, 8)");
  });

  it("counts duplicates anywhere in the run, also outside the expected range", () => {
    const report = analyseDelivery(parseArrivals(burstRecords([1, 2, 2, 3, 9, 9, 9]), RUN), expectAll([1, 2, 3]));
    expect(report.duplicates).toBe(3);
    expect(report.firstDuplicates).toEqual([
      { seq: 2, times: 2 },
      { seq: 9, times: 3 },
    ]);
    expect(report.outOfOrder).toBe(0);
  });

  it("names a line that arrived after a later one, and not a duplicate as reordered", () => {
    const report = analyseDelivery(parseArrivals(burstRecords([1, 3, 2, 4, 3]), RUN), expectAll([1, 2, 3, 4]));
    expect(report.firstOutOfOrder).toEqual([{ seq: 2, arrivedAfter: 3 }]);
    expect(report.outOfOrder).toBe(1);
    expect(report.duplicates).toBe(1);
  });

  it("finds a changed line and says where it first differs", () => {
    const records = burstRecords([1, 2]);
    records[1] = record(1, records[1]!.message.replace('"msg":"m"', '"msg":"M"'));
    const report = analyseDelivery(parseArrivals(records, RUN), expectAll([1, 2]));
    expect(report.differing).toBe(1);
    expect(report.firstDiffering).toMatchObject({ seq: 2, byteOffset: records[1]!.message.indexOf('"M"') + 1 });
    expect(deliveryProblems(report)[0]).toMatch(/^1 lines arrived changed \(seq 2: first difference at byte \d+/);
  });

  it("finds a re-encoded line the check cannot rebuild (a probe's) by its encoding", () => {
    const probe = `{"run":"${RUN}","ts":"${TS}","seq":1,"method":"GET","path":"/v2/health/ready","status":200,"duration_ms":0.3,"bytes_in":0,"bytes_out":0}`;
    const spaced = probe.replaceAll(",", ", ");
    const report = analyseDelivery(parseArrivals([record(0, spaced)], RUN), { seqs: [1], expectedText: expectedTextOf(RUN, {}) });
    expect(report.differing).toBe(0);
    expect(report.reencoded).toBe(1);
    expect(deliveryProblems(report)[0]).toMatch(/re-encoded/);
  });

  it("takes one trailing newline as framing, and a cut, undecodable, foreign or other-run record as not the primary's", () => {
    const line = burstLineText(RUN, 1, TS, { msg: "m", padBytes: 0 });
    const arrivals = parseArrivals(
      [
        record(0, `${line}\n`),
        record(1, line.slice(0, 20), { partial: true }),
        record(2, line, { invalidUtf8: true }),
        record(3, "hello from the shipper itself"),
        record(4, line.replace(RUN, "another-run")),
        record(5, '{"no":"seq"}'),
      ],
      RUN,
    );
    expect(arrivals.lines.map((l) => l.seq)).toEqual([1]);
    expect(arrivals.foreign.map((f) => f.why)).toEqual([
      "a frame cut short (the connection closed in the middle of it)",
      "not valid UTF-8",
      expect.stringMatching(/^not one JSON value/),
      '"run" is "another-run", not this pod\'s "run-1"',
      'no integer "seq": not an access-log line of the primary',
    ]);
    // The cut and the undecodable copies carry this run's id: broken lines of the primary, a failure.
    expect(deliveryProblems(analyseDelivery(arrivals, { seqs: [1] }))).toEqual([
      expect.stringMatching(/^2 records at the backend hold this run's id but are not lines the primary wrote \(record 1/),
    ]);
    // A shipper's own records (its logs, other runs' lines) are reported, not failed.
    const own = parseArrivals([record(0, `${line}\n`), record(1, "hello from the shipper itself"), record(2, line.replace(RUN, "another-run"))], RUN);
    const report = analyseDelivery(own, { seqs: [1] });
    expect([report.foreign, report.foreignOfRun, deliveryProblems(report)]).toEqual([2, 0, []]);
  });

  it("reports delivery latency from the lines' own timestamps", () => {
    expect(deliveryLatencyMs(parseArrivals(burstRecords([1, 2, 3]), RUN).lines)).toEqual({ median: 50, max: 50 });
  });
});

describe("expected lines", () => {
  it("rebuild a request's line from what was sent, with the received ts and duration", () => {
    const sent: SentRequest = { requestId: "id-1", method: "POST", path: "/v2/models/mlp/infer", status: 200, bytesIn: 300, bytesOut: 120 };
    const written = `{"run":"${RUN}","ts":"${TS}","seq":7,"method":"POST","path":"/v2/models/mlp/infer","status":200,"duration_ms":1.0,"bytes_in":300,"bytes_out":120,"request_id":"id-1"}`;
    const [line] = parseArrivals([record(0, written)], RUN).lines;
    expect(requestLineText(RUN, line!, sent)).toBe(written);
    const expectedText = expectedTextOf(RUN, { requests: new Map([["id-1", { ...sent, status: 500 }]]) });
    expect(expectedText(line!)).not.toBe(written);
  });

  it("pad a burst line as the primary does: the line without its run is at least pad_bytes bytes", () => {
    const text = burstLineText(RUN, 3, TS, { msg: "é", padBytes: 200 });
    expect(Buffer.byteLength(text.replace(`"run":"${RUN}",`, ""))).toBe(200);
    expect(burstLineText(RUN, 3, TS, { msg: "x".repeat(300), padBytes: 200 })).toContain('"pad":""');
  });

  it("leave lines of requests the check did not send to the encoding check", () => {
    const probe = `{"run":"${RUN}","ts":"${TS}","seq":5,"method":"GET","path":"/v2/health/ready","status":200,"duration_ms":0.3,"bytes_in":0,"bytes_out":0}`;
    const [line] = parseArrivals([record(0, probe)], RUN).lines;
    expect(expectedTextOf(RUN, { bursts: [{ msg: "m", padBytes: 0, firstSeq: 1, lastSeq: 9 }] })(line!)).toBeUndefined();
    const shutdown = parseArrivals([record(0, shutdownLineText(RUN, 10, TS))], RUN).lines[0]!;
    expect(expectedTextOf(RUN, {})(shutdown)).toBe(shutdownLineText(RUN, 10, TS));
  });
});

describe("droppedSpan (whenBackendDown: drop)", () => {
  it("counts the lines between the last one delivered before the outage and the first one after", () => {
    // Records 0–2 arrived before the outage (seqs 1–3); after it, 9 and 10 arrived.
    const arrivals = parseArrivals(burstRecords([1, 2, 3, 9, 10]), RUN);
    expect(droppedSpan(arrivals, 3, 10)).toEqual({ lost: 5, ranges: "4–8", resumedAtSeq: 9 });
  });

  it("counts everything after the outage as lost when nothing arrived again", () => {
    expect(droppedSpan(parseArrivals(burstRecords([1, 2]), RUN), 2, 6)).toEqual({ lost: 4, ranges: "3–6", resumedAtSeq: 7 });
  });
});

describe("seqRanges", () => {
  it("shortens long lists", () => {
    expect(seqRanges([5, 1, 2, 3, 5])).toBe("1–3, 5");
    expect(seqRanges(seqRange(1, 40).filter((s) => s % 2 === 0), 3)).toBe("2, 4, 6 and 17 more ranges");
  });
});
