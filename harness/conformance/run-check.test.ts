import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { PodRuntime, PodSpec, StartedPod, StoppedPod } from "../runtime/pod-runtime.ts";
import { loadManifest, type LoadedManifest, type PrimaryManifest, type SidecarManifest } from "../scenario/index.ts";
import type { ConformanceTest } from "./conformance-test.ts";
import { observationClaim } from "./detection-claim.ts";
import { suitePolicy } from "./certification-policy.ts";
import { CertificationInterrupted, runCheck } from "./run-check.ts";
import { runConformance } from "./run-conformance.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Pods that are only bookkeeping: what started, what stopped. */
class FakeRuntime implements PodRuntime {
  readonly started: string[] = [];
  readonly stopped: string[] = [];
  getName() {
    return "fake";
  }
  async startPod(spec: PodSpec): Promise<StartedPod> {
    this.started.push(spec.name);
    const stopped = this.stopped;
    let stops = 0;
    return {
      spec,
      url: () => "http://127.0.0.1:1",
      port: () => 1,
      status: () => [],
      stats: async () => ({ cpuUsageUs: 0, memoryBytes: 0, source: "proc", sampledAtMs: 0 }),
      logs: () => [],
      signal: () => {},
      restart: async () => {},
      events: () => [],
      async stop(): Promise<StoppedPod> {
        if (stops++ === 0) stopped.push(spec.name);
        return { containers: [], stopDurationMs: 0, events: [] };
      },
    };
  }
  async stopAll() {}
  async reapOrphans() {
    return [];
  }
}

let sidecar: LoadedManifest<SidecarManifest>;
let primary: LoadedManifest<PrimaryManifest>;
beforeAll(async () => {
  sidecar = await loadManifest(join(root, "scenarios/sidecars/envoy.yaml"), "Sidecar");
  primary = await loadManifest(join(root, "reference/primaries/fastapi-kserve/primary.yaml"), "Primary");
});

function fake(overrides: Partial<ConformanceTest> & Pick<ConformanceTest, "run">): ConformanceTest {
  return {
    id: "proxy.fake",
    description: "fake",
    profile: "proxy",
    level: "core",
    features: [],
    faultyFixture: "reference/sidecars/none.yaml",
    timeoutMs: 5_000,
    detection: observationClaim("a fake"),
    ...overrides,
  };
}

function target(runtime: FakeRuntime) {
  return { sidecar, primary, runtime, runId: "test-run" };
}

describe("runCheck", () => {
  it("passes a check's own verdict, message and evidence through, and stops its pods", async () => {
    const runtime = new FakeRuntime();
    const record = await runCheck({
      test: fake({
        run: async (context) => {
          await context.startPod();
          await context.startPod({ withoutSidecar: true });
          return { verdict: "passed", message: "identical", evidence: { bytes: 42 } };
        },
      }),
      target: target(runtime),
    });
    expect(record).toMatchObject({ runId: "test-run", id: "proxy.fake", profile: "proxy", level: "core", verdict: "passed", message: "identical", evidence: { bytes: 42 } });
    expect(record.durationMs).toBeGreaterThanOrEqual(0);
    expect(runtime.started).toHaveLength(2);
    expect(runtime.stopped.sort()).toEqual([...runtime.started].sort());
  });

  it("is not-supported, without running, when the sidecar does not claim a feature, naming it", async () => {
    let ran = false;
    const record = await runCheck({
      test: fake({ features: ["streaming", "graceful-drain"], run: async () => ((ran = true), { verdict: "passed", message: "" }) }),
      target: target(new FakeRuntime()),
    });
    expect(ran).toBe(false);
    expect(record.verdict).toBe("not-supported");
    expect(record.message).toBe("needs feature graceful-drain, which envoy does not claim (spec.features)");
    expect(record.evidence).toEqual({ missingFeatures: ["graceful-drain"] });
  });

  it("fails a check that throws, with the error's message and stack-free evidence, and stops its pods", async () => {
    const runtime = new FakeRuntime();
    const record = await runCheck({
      test: fake({
        run: async (context) => {
          await context.startPod();
          throw Object.assign(new RangeError("expected 200, the socket closed"), { lastLogLines: ["boom"] });
        },
      }),
      target: target(runtime),
    });
    expect(record.verdict).toBe("failed");
    expect(record.message).toBe("expected 200, the socket closed");
    expect(record.evidence).toEqual({ thrown: "RangeError", lastLogLines: ["boom"] });
    expect(JSON.stringify(record)).not.toMatch(/\bat .*\.ts:\d+/);
    expect(runtime.stopped).toEqual(runtime.started);
  });

  it("fails a check that hangs past its timeoutMs, aborts its signal, stops its pods and refuses new ones", async () => {
    const runtime = new FakeRuntime();
    let sawAbort = false;
    let lateStart: Promise<unknown> = Promise.resolve();
    const record = await runCheck({
      test: fake({
        timeoutMs: 200,
        run: async (context) => {
          await context.startPod();
          context.signal.addEventListener("abort", () => {
            sawAbort = true;
          });
          await new Promise((done) => setTimeout(done, 1_000));
          lateStart = context.startPod().catch((error: Error) => error.message);
          return new Promise(() => {});
        },
      }),
      target: target(runtime),
      settleMs: 50,
    });
    expect(record.verdict).toBe("failed");
    expect(record.message).toBe("did not finish within 200 ms");
    expect(record.durationMs).toBeLessThan(900);
    expect(sawAbort).toBe(true);
    expect(runtime.stopped).toEqual(runtime.started);
    await new Promise((done) => setTimeout(done, 1_000));
    expect(await lateStart).toMatch(/is over \(timed out or interrupted\): no new pods/);
    expect(runtime.started).toHaveLength(1);
  });

  it("fails a check that returns something other than an outcome", async () => {
    const record = await runCheck({ test: fake({ run: async () => ({ verdict: "ok" }) as never }), target: target(new FakeRuntime()) });
    expect(record.verdict).toBe("failed");
    expect(record.message).toBe('the check returned an invalid outcome: verdict: expected passed, failed or skipped, found "ok"');
  });

  it("records the figures a check measured for the manifest's claims, and fails one that is not a finite number", async () => {
    const record = await runCheck({
      test: fake({ run: async () => ({ verdict: "passed", message: "idle", measured: { idleMemoryMiB: 14.5 } }) }),
      target: target(new FakeRuntime()),
    });
    expect(record.measured).toEqual({ idleMemoryMiB: 14.5 });
    const bad = await runCheck({ test: fake({ run: async () => ({ verdict: "passed", message: "idle", measured: { idleMemoryMiB: Number.NaN } }) }), target: target(new FakeRuntime()) });
    expect(bad).toMatchObject({ verdict: "failed", message: "the check returned an invalid outcome: measured.idleMemoryMiB: expected a finite number, found NaN" });
  });

  it("gives the check the certification's policy and suite config, the suite's own without one", async () => {
    let seen: unknown;
    const check = fake({ run: async (context) => ((seen = [context.policy.resources.idleMemoryMiB, context.config.triesPerExpectation]), { verdict: "passed", message: "" }) });
    await runCheck({ test: check, target: target(new FakeRuntime()) });
    expect(seen).toEqual([128, 44]);
    const policy = suitePolicy();
    await runCheck({ test: check, target: { ...target(new FakeRuntime()), policy: { ...policy, thresholds: { ...policy.thresholds, resources: { ...policy.thresholds.resources, idleMemoryMiB: 64 } }, suite: { ...policy.suite, triesPerExpectation: 60 } } } });
    expect(seen).toEqual([64, 60]);
  });

  it("keeps a skip with its reason", async () => {
    const record = await runCheck({ test: fake({ run: async () => ({ verdict: "skipped", message: "no cgroup v2" }) }), target: target(new FakeRuntime()) });
    expect(record).toMatchObject({ verdict: "skipped", message: "no cgroup v2" });
  });

  it("throws CertificationInterrupted, after stopping the pods, when the run is interrupted mid-check", async () => {
    const runtime = new FakeRuntime();
    const controller = new AbortController();
    const check = runCheck({
      test: fake({
        run: async (context) => {
          await context.startPod();
          setTimeout(() => controller.abort(), 20);
          await new Promise((_, fail) => context.signal.addEventListener("abort", () => fail(new Error("aborted"))));
          return { verdict: "passed", message: "" };
        },
      }),
      target: target(runtime),
      signal: controller.signal,
    });
    await expect(check).rejects.toBeInstanceOf(CertificationInterrupted);
    expect(runtime.stopped).toEqual(runtime.started);
  });
});

describe("runConformance", () => {
  it("runs checks in order and stops at an interruption, keeping the verdicts it reached", async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const run = await runConformance({
      tests: [
        fake({ id: "proxy.a", run: async () => ({ verdict: "passed", message: "" }) }),
        fake({ id: "proxy.b", run: async () => (controller.abort(), { verdict: "passed", message: "" }) }),
        fake({ id: "proxy.c", run: async () => ({ verdict: "passed", message: "" }) }),
      ],
      target: target(new FakeRuntime()),
      signal: controller.signal,
      onVerdict: (record, index, total) => seen.push(`${index + 1}/${total} ${record.id}`),
    });
    expect(run.interrupted).toBe(true);
    expect(run.records.map((r) => r.id)).toEqual(["proxy.a"]);
    expect(seen).toEqual(["1/3 proxy.a"]);
  });
});
