// Containers that misbehave without breaking a rule must not break the harness: a flood of
// output stays within the log cap on disk and in memory, and a child that escaped its
// container's process group (setsid) ends with the container and with the pod. On every
// mode a pod's processes can run in: local with cgroups, local without (/proc), docker.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectDockerEngine } from "./docker/docker-engine.ts";
import { DockerPod } from "./docker/docker-pod.ts";
import { DockerRuntime } from "./docker/docker-runtime.ts";
import { dockerTestEngine, ensureProjectImage } from "./docker/docker-test-engine.ts";
import { LocalRuntime } from "./local/local-runtime.ts";
import { MARKER_BYTES } from "./logs/capped-log-file.ts";
import { DEFAULT_CONTAINER_LOG_MAX_BYTES, LOG_TAIL_MAX_BYTES } from "./logs/log-limits.ts";
import type { ContainerSpec, PodRuntime, PodSpec, StartedPod } from "./pod-runtime.ts";

const here = dirname(fileURLToPath(import.meta.url));
const fixtureDir = join(here, "local", "fixtures");
const escapeScript = resolve(here, "..", "..", "reference", "sidecars", "misbehaving", "escape-group.sh");
const MIB = 1024 * 1024;
/** stderr: lines for ever; stdout: one endless line. */
const FLOOD = `yes "flood line on stderr" >&2 & exec tr '\\000' '#' </dev/zero`;

/** The burst a container writes as it exits: far more than a pipe's or a socket's buffer, well under the log cap. */
const BURST_BYTES = 4 * MIB;
const LAST_LINE = "last line before the exit";
const TRAP_SET = "trap set";

type Mode = "local, cgroups" | "local, /proc" | "docker";

const engine = await dockerTestEngine();

/** Run folders of the tests' pods: a flood leaves its 10 MiB log in each. */
const workDirs: string[] = [];
afterAll(() => {
  for (const dir of workDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function newRuntime(mode: Mode): PodRuntime & { stopAll(): Promise<void> } {
  const workDir = mkdtempSync(join(tmpdir(), "sb-misbehaving-"));
  workDirs.push(workDir);
  if (mode === "docker") return new DockerRuntime({ workDir });
  return new LocalRuntime({ workDir, cgroups: mode === "local, /proc" ? "off" : "auto" });
}

function container(name: string, command: string[], overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name,
    kind: "sidecar",
    command,
    baseDir: fixtureDir,
    image: "sidecar-bench/node-sidecars:latest",
    ports: { http: 8090 },
    probes: {},
    startupTimeoutMs: 20_000,
    ...overrides,
  };
}

let counter = 0;
function pod(containers: ContainerSpec[]): PodSpec {
  return { name: `misbehaving${++counter}`, runId: `test-${process.pid}-${Date.now()}-${counter}`, containers, terminationGracePeriodMs: 3_000 };
}

/** Live processes (zombies excluded) whose environment names the run: what a pod left, wherever it went. */
function runProcesses(runId: string): Array<{ pid: number; command: string; session: number }> {
  const found = [];
  for (const name of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      if (!readFileSync(`/proc/${name}/environ`, "latin1").includes(`SIDECAR_BENCH_RUN_ID=${runId}\0`)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") continue;
      found.push({ pid: Number(name), command: readFileSync(`/proc/${name}/cmdline`, "latin1").split("\0")[0]!, session: Number(fields[3]) });
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

const sleepers = (runId: string) => runProcesses(runId).filter((p) => p.command === "sleep");

function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
}

function misbehavingSuite(mode: Mode): void {
  const runtimes: Array<{ stopAll(): Promise<void> }> = [];
  const runtimeFor = () => {
    const runtime = newRuntime(mode);
    runtimes.push(runtime);
    return runtime;
  };
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((r) => r.stopAll()));
  });
  if (mode === "docker") beforeAll(() => ensureProjectImage("node-sidecars"), 300_000);

  it("keeps a flooding container's log within its cap on disk, and the harness's memory bounded", async (context) => {
    const runtime = runtimeFor();
    if (mode === "local, cgroups" && runtime instanceof LocalRuntime && runtime.accountingSource() === "proc") context.skip();
    let peakRss = process.memoryUsage().rss;
    const rssBefore = peakRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 10);
    let started: StartedPod;
    try {
      started = await runtime.startPod(pod([container("flood", ["sh", "-c", FLOOD])]));
      // Far more than the cap and than the memory bound below (a buffer of 64 KiB pieces of the endless line held 128–256 MiB of this).
      await expect.poll(() => started.logUsage!("flood")!.droppedBytes, { timeout: 15_000, interval: 50 }).toBeGreaterThan(256 * MIB);
      const tail = started.logs("flood", 10);
      expect(tail[0]).toMatch(/^\[sidecar-bench\] log capped: the container wrote [\d.]+ [MG]iB, [\d.]+ [MG]iB dropped; its log file keeps the first and the last 5\.0 MiB \(.*flood\.log\)$/);
      expect(tail.slice(1).join("\n").length).toBeLessThan(11 * 4 * 1024);
      if (started instanceof DockerPod) {
        // The engine stores none of it (log driver "none"): its json-file log would grow without bound.
        const { dockerode } = await connectDockerEngine();
        const [, ...containers] = started.containerIds(); // the pause container first: it writes one line
        expect(containers).toHaveLength(1);
        for (const id of containers) expect((await dockerode.getContainer(id).inspect()).HostConfig.LogConfig?.Type).toBe("none");
      }
      await started.stop();
    } finally {
      clearInterval(sampler);
    }
    const usage = started.logUsage!("flood")!;
    const file = readFileSync(usage.file, "latin1");
    expect(statSync(usage.file).size).toBeLessThanOrEqual(DEFAULT_CONTAINER_LOG_MAX_BYTES);
    expect(usage.writtenBytes - usage.droppedBytes).toBe(file.length - MARKER_BYTES);
    expect(file).toContain(`[sidecar-bench] log capped at 10 MiB: ${usage.droppedBytes} bytes`);
    // The tail is the latest output in order: the harness's note of the exit comes last.
    expect(file.trimEnd()).toMatch(/\[sidecar-bench\] (process|container) exited [^\n]*$/);
    // What the harness holds is bounded by LOG_TAIL_MAX_BYTES plus transient pipe chunks and garbage.
    expect((peakRss - rssBefore) / MIB, `peak RSS ${(peakRss / MIB).toFixed(0)} MiB, ${(rssBefore / MIB).toFixed(0)} MiB before`).toBeLessThan(
      (LOG_TAIL_MAX_BYTES + 95 * MIB) / MIB,
    );
  });

  it("notes a container's exit in its log after the last of its output, also when that output is still on its way", async () => {
    const runtime = runtimeFor();
    // On SIGTERM: a burst far larger than a pipe's or a socket's buffer, a closing line, and the exit at once.
    const burst = `trap 'head -c ${BURST_BYTES} /dev/zero | tr "\\000" x; echo; echo ${LAST_LINE}; exit 0' TERM; echo ${TRAP_SET}; while :; do sleep 0.05; done`;
    const started = await runtime.startPod(pod([container("burst", ["sh", "-c", burst])]));
    // Its trap is set once it says so (else the SIGTERM could come first).
    await expect.poll(() => started.logs("burst", 5), { timeout: 10_000, interval: 20 }).toContain(TRAP_SET);
    await started.stop();
    const usage = started.logUsage!("burst")!;
    expect(usage.droppedBytes).toBe(0);
    // The last three lines, each shown by its length and its first characters (the burst is one 4 MiB line).
    const lastLines = readFileSync(usage.file, "latin1").trimEnd().split("\n").slice(-3).map((line) => ({ length: line.length, start: line.slice(0, 40) }));
    expect(lastLines).toEqual([
      { length: BURST_BYTES, start: "x".repeat(40) },
      { length: LAST_LINE.length, start: LAST_LINE },
      { length: expect.any(Number), start: expect.stringMatching(/^\[sidecar-bench\] (process|container) exited /) },
    ]);
  });

  it("ends a child that escaped the container's process group with the container, and with the pod", async (context) => {
    const runtime = runtimeFor();
    if (mode === "local, cgroups" && runtime instanceof LocalRuntime && runtime.accountingSource() === "proc") context.skip();
    const server = mode === "docker" ? "node" : process.execPath;
    const spec = pod([
      container("escaper", ["sh", escapeScript, server, "fixture-server.mjs", "--name", "escaper", "--port", "{{ port 'http' }}"], {
        probes: { startup: { action: { http: { port: "http", path: "/" } }, periodMs: 50, timeoutMs: 500, failureThreshold: 1 } },
      }),
    ]);
    const started = await runtime.startPod(spec);
    const mainPid = started.status()[0]!.pid!;
    await expect.poll(() => sleepers(spec.runId).length, { timeout: 5_000 }).toBe(1);
    const [first] = sleepers(spec.runId);
    expect(first!.session, "the child runs in a session of its own").not.toBe(sessionOf(mainPid));

    // The container's main process dies: what it left goes with it, and the restart starts one afresh.
    started.signal("escaper", "SIGKILL");
    await expect.poll(() => sleepers(spec.runId).some((p) => p.pid === first!.pid), { timeout: 5_000 }).toBe(false);
    await expect.poll(() => started.status()[0]!.ready && started.status()[0]!.restartCount === 1, { timeout: 10_000 }).toBe(true);
    await expect.poll(() => sleepers(spec.runId).length, { timeout: 5_000 }).toBe(1);

    await started.stop();
    await expect.poll(() => runProcesses(spec.runId), { timeout: 5_000 }).toEqual([]);
  });
}

describe("misbehaving containers: local runtime with cgroups", () => misbehavingSuite("local, cgroups"));
describe("misbehaving containers: local runtime without cgroups (/proc)", () => misbehavingSuite("local, /proc"));
(engine.skipReason ? describe.skip : describe)(`misbehaving containers: docker runtime${engine.skipReason ? ` (skipped: ${engine.skipReason})` : ""}`, () =>
  misbehavingSuite("docker"),
);
