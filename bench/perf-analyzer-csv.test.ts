import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parsePerfAnalyzerCsv } from "./perf-analyzer-csv.ts";

const fixture = new URL("./fixtures/perf-analyzer-2.44-request-rate.csv", import.meta.url).pathname;

describe("parsePerfAnalyzerCsv", () => {
  it("reads a real perf_analyzer 2.44 request-rate report by column name", () => {
    expect(parsePerfAnalyzerCsv(readFileSync(fixture, "utf8"), fixture)).toEqual({ setting: 100, inferencesPerSec: 94.3288, p50Us: 1581, p90Us: 5103, p99Us: 13953 });
  });

  it("names the file and the column it lacks, or the value that is not a number", () => {
    expect(() => parsePerfAnalyzerCsv("Request Rate,Inferences/Second\n100,90\n", "r.csv")).toThrow('r.csv: no column "p50 latency" (columns: Request Rate, Inferences/Second)');
    expect(() => parsePerfAnalyzerCsv("Request Rate,Inferences/Second,p50 latency,p90 latency,p99 latency\n100,x,1,2,3\n", "r.csv")).toThrow('r.csv: column "Inferences/Second" is "x", not a number');
    expect(() => parsePerfAnalyzerCsv("Request Rate\n", "r.csv")).toThrow("r.csv: expected a header and a measured row, found 1 line(s)");
  });
});
