// perf_analyzer's -f report: a CSV whose header names its columns (latencies in µs). The
// columns are looked up by name, so a perf_analyzer that adds or reorders columns still
// parses, and one that drops a needed column fails naming it. csv-parse would add a
// dependency for three comma-separated numbers without quoting; split is enough here.

export interface PerfAnalyzerRow {
  /** The request rate or concurrency the row was measured at (its first column). */
  setting: number;
  inferencesPerSec: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
}

const COLUMNS = { inferencesPerSec: "Inferences/Second", p50Us: "p50 latency", p90Us: "p90 latency", p99Us: "p99 latency" } as const;

/** The first measured row of a perf_analyzer CSV report; `file` names it in errors. */
export function parsePerfAnalyzerCsv(text: string, file: string): PerfAnalyzerRow {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  if (lines.length < 2) throw new Error(`${file}: expected a header and a measured row, found ${lines.length} line(s)`);
  const header = lines[0]!.split(",").map((h) => h.trim());
  const values = lines[1]!.split(",").map((v) => v.trim());
  const number = (column: string) => {
    const index = header.indexOf(column);
    if (index < 0) throw new Error(`${file}: no column "${column}" (columns: ${header.join(", ")})`);
    const value = Number(values[index]);
    if (!Number.isFinite(value)) throw new Error(`${file}: column "${column}" is ${JSON.stringify(values[index])}, not a number`);
    return value;
  };
  return {
    setting: Number(values[0]),
    inferencesPerSec: number(COLUMNS.inferencesPerSec),
    p50Us: number(COLUMNS.p50Us),
    p90Us: number(COLUMNS.p90Us),
    p99Us: number(COLUMNS.p99Us),
  };
}
