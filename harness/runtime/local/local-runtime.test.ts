import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { ContainerSpec, PodSpec, ProbeSpec, StartedPod } from "../pod-runtime.ts";
import { PodStartError } from "../pod-runtime.ts";
import { LocalRuntime } from "./local-runtime.ts";
import { listPids } from "./proc-stats.ts";
import { LABEL_OWNER, LABEL_RUN_ID, readLabels } from "./run-labels.ts";

const fixtureDir = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

const httpProbe = (port: string, path = "/"): ProbeSpec => ({
  action: { http: { port, path } },
  periodMs: 50,
  timeoutMs: 500,
  failureThreshold: 1,
});

function container(name: string, kind: "sidecar" | "main", flags: string[], overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name,
    kind,
    command: [process.execPath, "fixture-server.mjs", "--name", name, "--port", "{{ port 'http' }}", ...flags],
    baseDir: fixtureDir,
    ports: { http: 8080 },
    probes: { startup: httpProbe("http"), readiness: httpProbe("http", "/ready") },
    startupTimeoutMs: 10_000,
    ...overrides,
  };
}

let counter = 0;
function pod(containers: ContainerSpec[], terminationGracePeriodMs = 5_000): PodSpec {
  return { name: `pod${++counter}`, runId: `test-${process.pid}-${Date.now()}`, containers, terminationGracePeriodMs };
}

function labelledPids(runId: string): number[] {
  return listPids().filter((pid) => readLabels(pid)?.runId === runId);
}

const runtimes: LocalRuntime[] = [];
function newRuntime(): LocalRuntime {
  const runtime = new LocalRuntime({ workDir: mkdtempSync(join(tmpdir(), "sb-runtime-")) });
  runtimes.push(runtime);
  return runtime;
}

afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((r) => r.stopAll()));
});

describe("local runtime: start order", () => {
  it("starts a slow sidecar fully before the main container, and resolves cross-container ports", async () => {
    const runtime = newRuntime();
    const spec = pod([
      container("slow-sidecar", "sidecar", ["--startup-delay-ms", "400"]),
      container("primary", "main", ["--hello-to", "http://127.0.0.1:{{ port 'slow-sidecar.http' }}/"]),
    ]);
    const started = await runtime.startPod(spec);
    const events = started.events();
    const sidecarStarted = events.find((e) => e.container === "slow-sidecar" && e.type === "started")!;
    const primaryStarting = events.find((e) => e.container === "primary" && e.type === "starting")!;
    expect(sidecarStarted.atMs).toBeGreaterThanOrEqual(400);
    expect(primaryStarting.atMs).toBeGreaterThanOrEqual(sidecarStarted.atMs);
    // The main container reached the sidecar through the templated port.
    await expect.poll(() => started.logs("primary").join("\n"), { timeout: 5_000 }).toMatch(/"event":"hello".*"status":200,"body":"slow-sidecar/);
    const status = started.status();
    expect(status.every((c) => c.ready && c.state === "running")).toBe(true);
    expect(status.find((c) => c.name === "slow-sidecar")!.timeToReadyMs).toBeGreaterThanOrEqual(400);
    await started.stop();
  });

  it("hands out the pod through onCreated before it is ready, with its ports resolved", async () => {
    const runtime = newRuntime();
    const spec = pod([container("slow-sidecar", "sidecar", ["--startup-delay-ms", "300"]), container("primary", "main", [])]);
    const seen: Array<{ pod: StartedPod; url: string; ready: boolean[] }> = [];
    const started = await runtime.startPod(spec, {
      onCreated: (created) => seen.push({ pod: created, url: created.url("slow-sidecar", "http"), ready: created.status().map((c) => c.ready) }),
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.pod).toBe(started);
    expect(seen[0]!.url).toBe(started.url("slow-sidecar", "http"));
    expect(seen[0]!.ready).toEqual([false, false]);
    expect(started.status().every((c) => c.ready)).toBe(true);
    await started.stop();
  });

  it("fails fast with the last log lines when a sidecar exits at once, leaving no process", async () => {
    const runtime = newRuntime();
    const spec = pod([container("crasher", "sidecar", ["--exit-after-ms", "0", "--startup-delay-ms", "5000"]), container("primary", "main", [])]);
    const error = await runtime.startPod(spec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodStartError);
    expect((error as PodStartError).container).toBe("crasher");
    expect((error as Error).message).toMatch(/exited with code 3 before its startup probe passed/);
    expect((error as PodStartError).lastLogLines.join("\n")).toContain('"event":"exiting"');
    expect(labelledPids(spec.runId)).toEqual([]);
  });

  it("gives a bounded error when a sidecar never becomes ready", async () => {
    const runtime = newRuntime();
    const spec = pod([container("never-ready", "sidecar", ["--never-ready"]), container("primary", "main", [])]);
    const began = performance.now();
    const error = await runtime.startPod(spec, { readyTimeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(performance.now() - began).toBeLessThan(8_000);
    expect((error as Error).message).toMatch(/"never-ready" not ready within 1000 ms/);
    expect(labelledPids(spec.runId)).toEqual([]);
  });

  it("names a missing executable and what to do", async () => {
    const runtime = newRuntime();
    const spec = pod([container("ghost", "main", [], { command: ["no-such-binary-sb"] })]);
    await expect(runtime.startPod(spec)).rejects.toThrow(/"no-such-binary-sb" is not an executable on PATH.*npm run setup/);
  });

  it("resolves a command with a slash against the manifest's folder, whatever the harness's working directory", async () => {
    const runtime = newRuntime();
    const missing = pod([container("local-binary", "main", [], { command: ["./no-such-binary-sb"] })]);
    await expect(runtime.startPod(missing)).rejects.toThrow(`"./no-such-binary-sb" is not an executable (relative to ${fixtureDir})`);
    const script = pod([container("local-script", "main", [], { command: ["./fixture-server.mjs", "--name", "local-script", "--port", "{{ port 'http' }}"] })]);
    const started = await runtime.startPod(script);
    expect(started.status()[0]!.ready).toBe(true);
    await started.stop();
  });
});

describe("local runtime: restarts", () => {
  it("restarts an exiting sidecar alone; the main container keeps its process", async () => {
    const runtime = newRuntime();
    const spec = pod([container("flaky", "sidecar", []), container("primary", "main", [])]);
    const started = await runtime.startPod(spec);
    const primaryPid = started.status().find((c) => c.name === "primary")!.pid;
    const flakyPid = started.status().find((c) => c.name === "flaky")!.pid!;
    process.kill(flakyPid, "SIGKILL");
    await expect.poll(() => started.status().find((c) => c.name === "flaky")!.restartCount, { timeout: 5_000 }).toBe(1);
    await expect.poll(() => started.status().find((c) => c.name === "flaky")!.ready, { timeout: 5_000 }).toBe(true);
    const after = started.status();
    expect(after.find((c) => c.name === "flaky")!.pid).not.toBe(flakyPid);
    expect(after.find((c) => c.name === "primary")!.pid).toBe(primaryPid);
    expect(after.find((c) => c.name === "primary")!.restartCount).toBe(0);
    await started.stop();
  });

  it("leaves an exited main container down under restartPolicy Never, restarts it under Always", async () => {
    const runtime = newRuntime();
    const never = await runtime.startPod(pod([container("primary", "main", [])]));
    const always = await runtime.startPod({ ...pod([container("primary", "main", [])]), restartPolicy: "Always" });
    const neverPid = never.status()[0]!.pid!;
    const alwaysPid = always.status()[0]!.pid!;
    process.kill(neverPid, "SIGKILL");
    process.kill(alwaysPid, "SIGKILL");
    await expect.poll(() => always.status()[0]!.restartCount, { timeout: 5_000 }).toBe(1);
    await expect.poll(() => always.status()[0]!.ready, { timeout: 5_000 }).toBe(true);
    expect(always.status()[0]!.pid).not.toBe(alwaysPid);
    expect(never.status()[0]).toMatchObject({ state: "exited", restartCount: 0, ready: false });
    await Promise.all([never.stop(), always.stop()]);
  });

  it("restart() replaces the container's process through its startup probe", async () => {
    const runtime = newRuntime();
    const started = await runtime.startPod(pod([container("primary", "main", [])]));
    const before = started.status()[0]!.pid;
    await started.restart("primary");
    expect(started.status()[0]!.pid).not.toBe(before);
    expect(started.status()[0]!.restartCount).toBe(1);
    const response = await fetch(started.url("primary", "http"));
    expect(response.status).toBe(200);
    await started.stop();
  });
});

describe("local runtime: stop", () => {
  it("stops mains first, then sidecars in reverse start order, each awaited", async () => {
    const runtime = newRuntime();
    const spec = pod([
      container("first", "sidecar", ["--drain-ms", "100"]),
      container("second", "sidecar", ["--drain-ms", "100"]),
      container("primary", "main", ["--drain-ms", "200"]),
    ]);
    const started = await runtime.startPod(spec);
    const stopped = await started.stop();
    const order = stopped.events.filter((e) => e.type === "sigterm" || e.type === "stopped").map((e) => `${e.type}:${e.container}`);
    expect(order).toEqual([
      "sigterm:primary",
      "stopped:primary",
      "sigterm:second",
      "stopped:second",
      "sigterm:first",
      "stopped:first",
    ]);
    expect(stopped.containers.every((c) => !c.killed && c.exitCode === 0)).toBe(true);
    expect(labelledPids(spec.runId)).toEqual([]);
    // Stopping twice is safe and returns the same result.
    expect(await started.stop()).toBe(stopped);
  });

  it("kills a sidecar that ignores SIGTERM at the end of the grace period, and says so", async () => {
    const runtime = newRuntime();
    const grace = 800;
    const spec = pod([container("stubborn", "sidecar", ["--ignore-sigterm"]), container("primary", "main", [])], grace);
    const started = await runtime.startPod(spec);
    const stopped = await started.stop();
    const stubborn = stopped.containers.find((c) => c.name === "stubborn")!;
    expect(stubborn.killed).toBe(true);
    expect(stubborn.signal).toBe("SIGKILL");
    expect(stopped.containers.find((c) => c.name === "primary")!.killed).toBe(false);
    expect(stopped.stopDurationMs).toBeGreaterThanOrEqual(grace - 50);
    expect(stopped.events.some((e) => e.type === "sigkill" && e.container === "stubborn")).toBe(true);
    expect(started.logs("stubborn").join("\n")).toContain('"event":"sigterm"');
    expect(labelledPids(spec.runId)).toEqual([]);
  });
});

describe("local runtime: accounting and labels", () => {
  it("reports CPU and memory per container", async () => {
    const runtime = newRuntime();
    const started = await runtime.startPod(pod([container("primary", "main", [])]));
    const stats = await started.stats("primary");
    expect(stats.memoryBytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(stats.cpuUsageUs).toBeGreaterThan(0);
    expect(stats.source).toBe(runtime.accountingSource());
    await started.stop();
  });

  it("falls back to /proc accounting over the process tree when cgroups are off", async () => {
    const runtime = new LocalRuntime({ workDir: mkdtempSync(join(tmpdir(), "sb-runtime-")), cgroups: "off" });
    runtimes.push(runtime);
    expect(runtime.accountingSource()).toBe("proc");
    const started = await runtime.startPod(pod([container("burner", "main", ["--burn-cpu-ms", "300"], { probes: {} })]));
    await expect.poll(() => started.logs("burner").join("\n"), { timeout: 5_000 }).toContain('"event":"burned"');
    const stats = await started.stats("burner");
    expect(stats.source).toBe("proc");
    expect(stats.cpuUsageUs).toBeGreaterThanOrEqual(200_000); // 10 ms tick granularity
    expect(stats.memoryBytes).toBeGreaterThan(5 * 1024 * 1024);
    await started.stop();
  });

  it("enforces memory and CPU limits through cgroups where writable", async (context) => {
    const runtime = newRuntime();
    if (runtime.accountingSource() === "proc") context.skip(); // no writable cgroups: limits are not enforced, and reports say so
    // No probes: a busy burner could not answer them, and the pod must be ready before the hog allocates.
    const hog = container("hog", "main", ["--alloc-mib", "200"], { resources: { memoryMiB: 96 }, probes: {} });
    const started = await runtime.startPod(pod([container("burner", "sidecar", ["--burn-cpu-ms", "600"], { resources: { cpus: 0.2 }, probes: {} }), hog]));
    await expect.poll(() => started.status().find((c) => c.name === "hog")!.state, { timeout: 10_000 }).toBe("exited");
    expect(started.status().find((c) => c.name === "hog")!.exitSignal).toBe("SIGKILL");
    expect((await started.stats("hog")).oomKills ?? 1).toBeGreaterThanOrEqual(1);
    await expect.poll(async () => (await started.stats("burner")).throttledPeriods ?? 0, { timeout: 10_000 }).toBeGreaterThan(0);
    await started.stop();
  });

  it("labels every process with the run id and reaps the processes of a dead harness", async () => {
    const runtime = newRuntime();
    // A process labelled as if started by a harness that no longer exists.
    const orphan = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], {
      env: { ...process.env, [LABEL_RUN_ID]: "dead-run", [LABEL_OWNER]: "999999999:1" },
      stdio: "ignore",
      detached: true,
    });
    const exited = new Promise((done) => orphan.once("exit", done));
    await expect.poll(() => readLabels(orphan.pid!)?.runId, { timeout: 2_000 }).toBe("dead-run");
    const reaped = await runtime.reapOrphans();
    expect(reaped.some((line) => line.startsWith(`process ${orphan.pid} `))).toBe(true);
    await exited;
    // Processes of a live harness are left alone.
    const started = await runtime.startPod(pod([container("primary", "main", [])]));
    const pid = started.status()[0]!.pid!;
    expect(readFileSync(`/proc/${pid}/environ`, "utf8")).toContain(`${LABEL_RUN_ID}=${started.spec.runId}`);
    await runtime.reapOrphans();
    expect(listPids()).toContain(pid);
    await started.stop();
  });
});
