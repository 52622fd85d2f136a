// BackendLogs against a stand-in backend: incremental reads, the bounded wait for seqs, and
// reading all along a stop while the backend goes away.
import { describe, expect, it } from "vitest";
import type { LogsPage, ReceivedLogRecord, RoleBackend } from "../support/role-backend.ts";
import { burstLineText } from "./expected-lines.ts";
import { BackendLogs } from "./log-pod.ts";

const RUN = "run-1";

/** A backend whose records grow by `add`, and which can be taken away (every read then fails). */
class StandInBackend {
  readonly records: ReceivedLogRecord[] = [];
  gone = false;
  reads = 0;

  add(seq: number): void {
    const message = burstLineText(RUN, seq, "2026-01-01T00:00:00.000000+00:00", { msg: "m", padBytes: 0 });
    this.records.push({ index: this.records.length, via: "syslog", message, receivedMs: 0, partial: false, invalidUtf8: false });
  }

  async allLogs(from = 0): Promise<ReceivedLogRecord[]> {
    this.reads++;
    if (this.gone) throw new Error("connect ECONNREFUSED");
    return this.records.slice(from);
  }

  async logs(from = 0): Promise<LogsPage> {
    if (this.gone) throw new Error("connect ECONNREFUSED");
    return { records: this.records.slice(from), next: this.records.length, total: this.records.length, droppedRecords: 0 };
  }
}

function logsOf(standIn: StandInBackend): BackendLogs {
  return new BackendLogs(standIn as unknown as RoleBackend, RUN);
}

describe("BackendLogs", () => {
  it("waits until every seq has arrived, reading only what is new", async () => {
    const standIn = new StandInBackend();
    const logs = logsOf(standIn);
    standIn.add(1);
    setTimeout(() => standIn.add(2), 30);
    const elapsed = await logs.waitForSeqs([1, 2], 2_000, new AbortController().signal, 10);
    expect(elapsed).not.toBeNull();
    expect(logs.arrivals().lines.map((l) => l.seq)).toEqual([1, 2]);
  });

  it("gives up after its bound, answering null", async () => {
    const standIn = new StandInBackend();
    const began = performance.now();
    expect(await logsOf(standIn).waitForSeqs([1], 100, new AbortController().signal, 20)).toBeNull();
    expect(performance.now() - began).toBeLessThan(1_000);
  });

  it("reads all along a stop, keeps what it read before the backend went, and says the last read failed", async () => {
    const standIn = new StandInBackend();
    const logs = logsOf(standIn);
    const stop = (async () => {
      standIn.add(1);
      await new Promise((resolve) => setTimeout(resolve, 60));
      standIn.add(2);
      await new Promise((resolve) => setTimeout(resolve, 60));
      standIn.gone = true;
      await new Promise((resolve) => setTimeout(resolve, 30));
      return "stopped";
    })();
    const { value, lastReadOk, failedReads } = await logs.followDuring(stop, 10, new AbortController().signal);
    expect(value).toBe("stopped");
    expect(lastReadOk).toBe(false);
    expect(failedReads).toBeGreaterThan(0);
    expect(logs.arrivals().lines.map((l) => l.seq)).toEqual([1, 2]);
  });
});
