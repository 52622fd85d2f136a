// The boundary fixtures' magnitudes come from the effective policy and suite config, not
// from constants: a certifier's policy moves them with its thresholds.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { suitePolicy, type EffectivePolicy } from "../../harness/conformance/certification-policy.ts";
import { loadManifest, type SidecarManifest } from "../../harness/scenario/index.ts";
import { CONFORMANCE_TESTS } from "../registry.ts";
import { BOUNDARY_FIXTURES, withFaultArgs } from "./boundary-fixtures.ts";
import { REPO_ROOT } from "./real-pod-check.ts";

const byCheck = (id: string) => BOUNDARY_FIXTURES.find((b) => b.check === id)!;
const fixtures = new Map<string, SidecarManifest>();
beforeAll(async () => {
  for (const b of BOUNDARY_FIXTURES) fixtures.set(b.fixture, (await loadManifest(join(REPO_ROOT, b.fixture), "Sidecar")).manifest);
});

function withPolicy(change: (policy: EffectivePolicy) => void): EffectivePolicy {
  const policy = structuredClone(suitePolicy());
  change(policy);
  return policy;
}

describe("boundary fixtures", () => {
  it("probe each threshold-based check with that check's own faulty fixture", () => {
    expect(BOUNDARY_FIXTURES.map((b) => b.check)).toEqual([
      "lifecycle.time-to-ready",
      "lifecycle.no-traffic-before-ready",
      "lifecycle.sidecar-crash-restarts-alone",
      "lifecycle.fails-fast-while-down",
      "lifecycle.sigterm-honoured",
      "proxy.streaming-not-buffered",
      "resources.idle-memory",
      "resources.cpu-per-1k-rps",
      "resources.memory-soak-bounded",
      "telemetry.backend-outage",
    ]);
    for (const b of BOUNDARY_FIXTURES) expect(CONFORMANCE_TESTS.find((t) => t.id === b.check)?.faultyFixture).toBe(b.fixture);
  });

  it("put the fault at 0.6× and 1.5× the suite policy's thresholds (streaming: 0.3× inside, for its noise)", () => {
    const policy = suitePolicy();
    const args = (id: string) => {
      const b = byCheck(id);
      return [b.args(policy, fixtures.get(b.fixture)!, "inside"), b.args(policy, fixtures.get(b.fixture)!, "outside")];
    };
    expect(args("lifecycle.time-to-ready")).toEqual([["--delay-ms", "3000"], ["--delay-ms", "7500"]]);
    expect(args("lifecycle.sidecar-crash-restarts-alone")).toEqual([["--delay-ms", "6000"], ["--delay-ms", "15000"]]);
    expect(args("lifecycle.fails-fast-while-down")).toEqual([["--delay-ms", "600"], ["--delay-ms", "1500"]]);
    expect(args("lifecycle.sigterm-honoured")).toEqual([["--delay-ms", "3000"], ["--delay-ms", "7500"]]);
    expect(args("proxy.streaming-not-buffered")).toEqual([["--delay-ms", "60"], ["--delay-ms", "300"]]);
    expect(args("resources.idle-memory")).toEqual([["--memory-mib", "77"], ["--memory-mib", "192"]]);
    expect(args("resources.cpu-per-1k-rps")).toEqual([["--cpu-ms-per-request", "0.6"], ["--cpu-ms-per-request", "1.5"]]);
    // 16 MiB over the 2400 requests between the soak's first- and last-quarter centres.
    expect(args("resources.memory-soak-bounded")).toEqual([["--leak-kib", "4.1"], ["--leak-kib", "10.24"]]);
    // 64 MiB over the 8 s outage: 8 MiB/s at the threshold.
    expect(args("telemetry.backend-outage")).toEqual([["--growth-mib-per-s", "4.8"], ["--growth-mib-per-s", "12"]]);
    // ready-late's manifest: readiness period 500 ms (under the 1000 ms cap) + 150 ms timing slack; inside: within the slack alone.
    expect(args("lifecycle.no-traffic-before-ready")).toEqual([["--delay-ms", "90"], ["--delay-ms", "975"]]);
    expect(byCheck("lifecycle.no-traffic-before-ready").threshold(policy, fixtures.get("reference/sidecars/ready-late.yaml")!).value).toBe(650);
  });

  it("follow a certifier's policy and suite config", () => {
    const policy = withPolicy((p) => {
      p.thresholds.lifecycle.timeToReadyMs = 8_000;
      p.thresholds.lifecycle.maxProbeSlackMs = 200;
      p.thresholds.resources.cpuPer1kRps = 2;
      p.suite.soakMs = 32_000;
      p.suite.timingSlackMs = 100;
    });
    const args = (id: string, side: "inside" | "outside") => byCheck(id).args(policy, fixtures.get(byCheck(id).fixture)!, side);
    expect(args("lifecycle.time-to-ready", "outside")).toEqual(["--delay-ms", "12000"]);
    expect(args("resources.cpu-per-1k-rps", "inside")).toEqual(["--cpu-ms-per-request", "1.2"]);
    expect(args("resources.memory-soak-bounded", "outside")).toEqual(["--leak-kib", "5.12"]);
    // The 500 ms readiness period is capped at 200 ms: (200 + 100) × 1.5.
    expect(args("lifecycle.no-traffic-before-ready", "outside")).toEqual(["--delay-ms", "450"]);
    expect(args("lifecycle.no-traffic-before-ready", "inside")).toEqual(["--delay-ms", "60"]);
  });

  it("run the fixture's own command with the magnitude appended, the file otherwise untouched", async () => {
    const loaded = await loadManifest(join(REPO_ROOT, "reference/sidecars/slow-start.yaml"), "Sidecar");
    const before = structuredClone(loaded.manifest);
    const run = withFaultArgs(loaded, ["--delay-ms", "3000"]);
    expect(run.manifest.spec.container.command).toEqual([...before.spec.container.command, "--delay-ms", "3000"]);
    expect(loaded.manifest).toEqual(before);
    expect(run.sha256).toBe(loaded.sha256);
  });
});
