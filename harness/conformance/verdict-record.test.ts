import { appendFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appendVerdictRecord, readVerdictRecords, type VerdictRecord } from "./verdict-record.ts";

const record = (runId: string, id: string, verdict: VerdictRecord["verdict"]): VerdictRecord => ({
  runId,
  id,
  profile: "proxy",
  level: "core",
  verdict,
  message: "",
  startedAt: "2026-01-01T00:00:00.000Z",
  durationMs: 1,
});

describe("verdict records", () => {
  it("are read back per run, the last per test id, skipping a line a killed writer cut short", () => {
    const file = join(mkdtempSync(join(tmpdir(), "sb-verdicts-")), "out", "verdicts.jsonl");
    expect(readVerdictRecords(file, "r1")).toEqual([]);
    appendVerdictRecord(file, record("r0", "proxy.a", "failed"));
    appendVerdictRecord(file, record("r1", "proxy.a", "failed"));
    appendVerdictRecord(file, record("r1", "proxy.b", "passed"));
    appendVerdictRecord(file, record("r1", "proxy.a", "passed"));
    appendFileSync(file, '{"runId":"r1","id":"proxy.c","verd');
    expect(readVerdictRecords(file, "r1").map((r) => `${r.id}:${r.verdict}`)).toEqual(["proxy.a:passed", "proxy.b:passed"]);
    expect(readVerdictRecords(file, "r0")).toHaveLength(1);
  });
});
