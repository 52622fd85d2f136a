// `sidecar-bench report <results.json>`: re-renders the report files from a run's
// results, e.g. after an interrupted run or with a newer version of the writers.
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { RESULTS_KIND, RESULTS_SCHEMA_VERSION, type Results } from "../report/results-model.ts";
import { writeReports } from "../report/write-reports.ts";
import { UsageError } from "./usage-error.ts";

export function readResults(file: string): Results {
  if (!existsSync(file)) throw new UsageError(`${file}: no such file; pass the results.json of a run (reports/<run-id>/results.json)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const record = parsed as Partial<Results>;
  if (record.kind !== RESULTS_KIND) throw new UsageError(`${file}: kind: expected "${RESULTS_KIND}", found ${JSON.stringify(record.kind)}`);
  if (record.schemaVersion !== RESULTS_SCHEMA_VERSION) {
    throw new UsageError(`${file}: schemaVersion: expected ${RESULTS_SCHEMA_VERSION}, found ${JSON.stringify(record.schemaVersion)}; re-run with this version`);
  }
  return parsed as Results;
}

export function reportCommand(file: string, out?: string): number {
  const results = readResults(resolve(file));
  const outDir = resolve(out ?? dirname(resolve(file)));
  for (const written of writeReports(results, outDir, { skipResultsJson: outDir === dirname(resolve(file)) })) {
    process.stdout.write(`${written}\n`);
  }
  return 0;
}
