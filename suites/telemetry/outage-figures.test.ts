// The outage check's figures: memory growth from the median before to the peak while down,
// latency against a baseline that brackets the outage; and promtool's exit codes as the
// exposition check reads them (the real promtool: Debian's prometheus package).
import { describe, expect, it } from "vitest";
import { checkMetrics } from "./promtool.ts";
import { median, outageLatency, outageMemory, type PhasedRequest, type PhasedSample } from "./steady-load.ts";

const sample = (phase: PhasedSample["phase"], mib: number): PhasedSample => ({ phase, atMs: 0, mib });
const answered = (phase: PhasedRequest["phase"], durationMs: number, gotAnswer = true): PhasedRequest => ({
  phase,
  durationMs,
  startedAtMs: 0,
  endedAtMs: durationMs,
  index: 0,
  expectStatus: 200,
  startedAtEpochMs: 0,
  ...(gotAnswer ? { status: 200 } : { error: "connection" }),
});

describe("outage figures", () => {
  it("median of odd, even and empty lists", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it("memory growth is the peak while down over the median before (warm-up and after ignored)", () => {
    const figures = outageMemory([sample("warm-up", 500), sample("before", 10), sample("before", 12), sample("before", 11), sample("down", 15), sample("down", 40), sample("after", 900)]);
    expect(figures).toEqual({ baselineMiB: 11, peakMiB: 40, growthMiB: 29, samplesBefore: 3, samplesDown: 2 });
    expect(outageMemory([sample("before", 10)]).growthMiB).toBeNaN();
  });

  it("latency while down against the answered requests just before and after, failures left out", () => {
    const figures = outageLatency([
      answered("warm-up", 100),
      answered("before", 1),
      answered("before", 2),
      answered("after", 3),
      answered("down", 4),
      answered("down", 6),
      answered("down", 50, false),
    ]);
    expect(figures).toEqual({ baselineMs: 2, downMs: 5, ratio: 2.5, answeredBaseline: 3, answeredDown: 2 });
  });
});

describe("promtool check metrics", () => {
  it("exits 0 on a clean exposition, 3 on lint advice only, 1 on a parse error", async () => {
    const clean = await checkMetrics('# HELP kserve_requests_total Counted.\n# TYPE kserve_requests_total counter\nkserve_requests_total{model="mlp"} 1\n');
    expect(clean).toEqual({ exitCode: 0, lines: [] });
    const lint = await checkMetrics("# TYPE a counter\na 1\n");
    expect(lint.exitCode).toBe(3);
    expect(lint.lines.join("\n")).toMatch(/_total/);
    const broken = await checkMetrics("# HELP a x\n# TYPE a counter\na_total 1\n# HELP a x\n# TYPE a counter\n");
    expect(broken.exitCode).toBe(1);
    expect(broken.lines.join("\n")).toMatch(/second HELP line|second TYPE line/);
  });
});
