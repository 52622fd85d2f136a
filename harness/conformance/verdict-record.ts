// One verdict as a JSON-serialisable value, and the file of verdicts a certification
// appends to as it goes: the vitest worker writes it, `certify` reads it to build the
// report, and an interrupted run keeps every verdict it reached.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { BudgetName, Level, Profile, Verdict } from "./conformance-test.ts";

export interface VerdictRecord {
  /** The certification run that reached this verdict (a reused folder may hold older runs' lines). */
  runId: string;
  id: string;
  profile: Profile;
  level: Level;
  verdict: Verdict;
  /** One line: what was expected and found, why it was skipped, or which features are missing. */
  message: string;
  /** Figures and excerpts behind the verdict; JSON values only, never a stack trace. */
  evidence?: Record<string, unknown>;
  /** Figures a manifest's budgets may claim, as the check measured them (claims.ts). */
  measured?: Partial<Record<BudgetName, number>>;
  startedAt: string;
  durationMs: number;
}

/** The file a certification appends its verdicts to, inside its report folder. */
export const VERDICTS_FILE = "verdicts.jsonl";

/** One line per record: appending a line is atomic enough for one writer, and a torn last line is detectable. */
export function appendVerdictRecord(file: string, record: VerdictRecord): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}

/**
 * The complete records of one run, the last one per test id (vitest may retry an entry).
 * A missing file is an empty list; a line cut short by a killed writer is ignored.
 */
export function readVerdictRecords(file: string, runId: string): VerdictRecord[] {
  if (!existsSync(file)) return [];
  const byId = new Map<string, VerdictRecord>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    let record: VerdictRecord;
    try {
      record = JSON.parse(line) as VerdictRecord;
    } catch {
      continue;
    }
    if (record.runId === runId && typeof record.id === "string" && typeof record.verdict === "string") byId.set(record.id, record);
  }
  return [...byId.values()];
}
