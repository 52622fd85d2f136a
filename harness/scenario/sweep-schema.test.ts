import { describe, expect, it } from "vitest";
import { parseManifest } from "./load-manifest.ts";

const scenario = (load: string, sweep: string) => `apiVersion: sidecar-bench/v1alpha1
kind: Scenario
metadata: { name: s }
spec:
  primary: p.yaml
  variants: [{ name: v }]
  workload:
    request: { kind: infer, format: json, inputs: [{ name: x, datatype: FP32, shape: [1] }] }
    load: ${load}
  sweep: ${sweep}
`;
const OPEN = "{ mode: open, ratePerSec: 10 }";

function issues(load: string, sweep: string): string[] {
  return parseManifest(scenario(load, sweep), "/s.yaml", "Scenario").issues.map((i) => `${i.path}: ${i.message}`);
}

describe("spec.sweep", () => {
  it("takes rising rates, or a geometric ladder, with a knee factor defaulting to 2", () => {
    const parsed = parseManifest(scenario(OPEN, "{ ratesPerSec: [10, 20, 40] }"), "/s.yaml", "Scenario");
    expect(parsed.issues).toEqual([]);
    expect(parsed.loaded!.manifest.spec.sweep).toEqual({ ratesPerSec: [10, 20, 40], kneeP99Factor: 2 });
    expect(issues(OPEN, "{ fromPerSec: 10, toPerSec: 100, steps: 3, kneeP99Factor: 1.5 }")).toEqual([]);
  });

  it("names the field of a bad sweep", () => {
    expect(issues(OPEN, "{ ratesPerSec: [20, 10] }")).toEqual(["spec.sweep.ratesPerSec: expected rising rates, each above the one before"]);
    expect(issues(OPEN, "{ ratesPerSec: [10, 20], steps: 3 }")).toEqual(["spec.sweep.steps: give either ratesPerSec or fromPerSec/toPerSec/steps, not both"]);
    expect(issues(OPEN, "{ fromPerSec: 10, steps: 3 }")).toEqual(["spec.sweep: expected ratesPerSec, or all of fromPerSec, toPerSec and steps"]);
    expect(issues(OPEN, "{ fromPerSec: 10, toPerSec: 5, steps: 3 }")).toEqual(["spec.sweep.toPerSec: expected a rate above fromPerSec (10)"]);
    expect(issues("{ mode: closed, connections: 4 }", "{ ratesPerSec: [10, 20] }")).toEqual([
      "spec.sweep: a rate sweep needs an open-loop load (workload.load.mode open or vegeta): a closed loop has no rate to set",
    ]);
  });
});
