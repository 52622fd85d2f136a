import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ContainerSpec, PodSpec, ProbeSpec, StartedPod } from "../pod-runtime.ts";
import { PodStartError } from "../pod-runtime.ts";
import { connectDockerEngine } from "./docker-engine.ts";
import { LABEL_OWNER_PID, LABEL_RUN_ID } from "./docker-labels.ts";
import { DockerRuntime } from "./docker-runtime.ts";
import { dockerTestEngine, ensureProjectImage } from "./docker-test-engine.ts";

const fixtureDir = join(dirname(fileURLToPath(import.meta.url)), "..", "local", "fixtures");
const engine = await dockerTestEngine();
if (engine.skipReason) console.warn(`docker runtime tests skipped: ${engine.skipReason}`);
const describeDocker = engine.skipReason ? describe.skip : describe;

const httpProbe = (port: string, path = "/"): ProbeSpec => ({
  action: { http: { port, path } },
  periodMs: 50,
  timeoutMs: 500,
  failureThreshold: 1,
});

// Containers of one pod share a network namespace, so each declares its own port.
let nextPort = 8081;
function container(name: string, kind: "sidecar" | "main", flags: string[], overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name,
    kind,
    command: ["node", "fixture-server.mjs", "--name", name, "--port", "{{ port 'http' }}", ...flags],
    baseDir: fixtureDir,
    // The fixture server is plain Node: the image the project's Node sidecars run in.
    image: "sidecar-bench/node-sidecars:latest",
    ports: { http: nextPort++ },
    probes: { startup: httpProbe("http"), readiness: httpProbe("http", "/ready") },
    startupTimeoutMs: 20_000,
    ...overrides,
  };
}

let counter = 0;
function pod(containers: ContainerSpec[], terminationGracePeriodMs = 5_000): PodSpec {
  return { name: `pod${++counter}`, runId: `test-${process.pid}-${Date.now()}`, containers, terminationGracePeriodMs };
}

async function labelledContainers(runId: string): Promise<string[]> {
  const { dockerode } = await connectDockerEngine();
  const list = await dockerode.listContainers({ all: true, filters: { label: [`${LABEL_RUN_ID}=${runId}`] } });
  return list.map((c) => c.Id);
}

const runtimes: DockerRuntime[] = [];
function newRuntime(): DockerRuntime {
  const runtime = new DockerRuntime({ workDir: mkdtempSync(join(tmpdir(), "sb-docker-")) });
  runtimes.push(runtime);
  return runtime;
}

afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((r) => r.stopAll()));
});

describeDocker("docker runtime: start order", () => {
  beforeAll(() => ensureProjectImage("node-sidecars"), 300_000);

  it("starts a slow sidecar fully before the main container, which reaches it on localhost", async () => {
    const runtime = newRuntime();
    const spec = pod([
      container("slow-sidecar", "sidecar", ["--startup-delay-ms", "400"]),
      container("primary", "main", ["--hello-to", "http://127.0.0.1:{{ port 'slow-sidecar.http' }}/"]),
    ]);
    const started = await runtime.startPod(spec);
    const events = started.events();
    const sidecarStarting = events.find((e) => e.container === "slow-sidecar" && e.type === "starting")!;
    const sidecarStarted = events.find((e) => e.container === "slow-sidecar" && e.type === "started")!;
    const primaryStarting = events.find((e) => e.container === "primary" && e.type === "starting")!;
    expect(sidecarStarted.atMs - sidecarStarting.atMs).toBeGreaterThanOrEqual(400);
    expect(primaryStarting.atMs).toBeGreaterThanOrEqual(sidecarStarted.atMs);
    await expect.poll(() => started.logs("primary").join("\n"), { timeout: 5_000 }).toMatch(/"event":"hello".*"status":200,"body":"slow-sidecar/);
    expect(started.status().every((c) => c.ready && c.state === "running")).toBe(true);
    // The harness reaches the pod through a port published on 127.0.0.1.
    expect(started.url("primary", "http")).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(started.url("primary", "http"))).text()).toMatch(/^primary /);
    await started.stop();
  });

  it("hands out the pod through onCreated before it is ready, its published ports already resolved", async () => {
    const runtime = newRuntime();
    const spec = pod([container("slow-sidecar", "sidecar", ["--startup-delay-ms", "300"]), container("primary", "main", [])]);
    const seen: Array<{ pod: StartedPod; url: string; ready: boolean[] }> = [];
    const started = await runtime.startPod(spec, {
      onCreated: (created) => seen.push({ pod: created, url: created.url("slow-sidecar", "http"), ready: created.status().map((c) => c.ready) }),
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.pod).toBe(started);
    expect(seen[0]!.ready).toEqual([false, false]);
    // The url handed out before the start is the one that serves after it.
    expect(await (await fetch(seen[0]!.url)).text()).toMatch(/^slow-sidecar /);
    await started.stop();
  });

  it("routes published ports to the containers' 127.0.0.1 by NAT inside the pod, and records how the engine publishes them", async () => {
    const runtime = newRuntime();
    const spec = pod([container("primary", "main", [], { ports: { http: nextPort++, unused: nextPort++ } })]);
    const started = await runtime.startPod(spec);
    expect(await (await fetch(started.url("primary", "http"))).text()).toMatch(/^primary /);
    const publishing = runtime.portPublishing();
    expect(publishing).toMatch(/^(docker-proxy|kernel NAT)/);
    // Through docker-proxy a connection is accepted first and then dropped; through NAT the kernel refuses it.
    const refused = await fetch(started.url("primary", "unused")).then(
      () => "answered",
      (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
    );
    expect(refused).toBe(publishing === "kernel NAT (no userland proxy)" ? "ECONNREFUSED" : "UND_ERR_SOCKET");
    await started.stop();
  });

  it("shares one PID namespace per pod, as processes on the local runtime share the host's", async () => {
    const runtime = newRuntime();
    const started = await runtime.startPod(pod([container("helper", "sidecar", []), container("primary", "main", [])]));
    const pidOf = async (name: string) => Number((await (await fetch(started.url(name, "http"))).text()).split(" ")[1]);
    const [helperPid, primaryPid] = [await pidOf("helper"), await pidOf("primary")];
    expect(helperPid).not.toBe(primaryPid);
    started.signal("helper", "SIGKILL");
    await expect.poll(() => started.status().find((c) => c.name === "helper")!.restartCount, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => started.status().find((c) => c.name === "helper")!.ready, { timeout: 10_000 }).toBe(true);
    expect(await pidOf("helper")).not.toBe(helperPid);
    await started.stop();
  });

  it("fails fast with the last log lines when a sidecar exits at once, leaving no container", async () => {
    const runtime = newRuntime();
    const spec = pod([container("crasher", "sidecar", ["--exit-after-ms", "0", "--startup-delay-ms", "5000"]), container("primary", "main", [])]);
    const error = await runtime.startPod(spec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodStartError);
    expect((error as PodStartError).container).toBe("crasher");
    expect((error as Error).message).toMatch(/exited with code 3 before its startup probe passed/);
    expect((error as PodStartError).lastLogLines.join("\n")).toContain('"event":"exiting"');
    expect(await labelledContainers(spec.runId)).toEqual([]);
  });

  it("names a missing image and how to build or load it", async () => {
    const runtime = newRuntime();
    const spec = pod([container("ghost", "main", [], { image: "sidecar-bench/no-such-image:1" })]);
    await expect(runtime.startPod(spec)).rejects.toThrow(/"sidecar-bench\/no-such-image:1" \(for ghost\) not on this machine.*build-images\.mjs.*docker load/);
  });

  it("refuses a container without an image, naming the manifest field", async () => {
    const runtime = newRuntime();
    const { image: _none, ...imageless } = container("bare", "main", []);
    await expect(runtime.startPod(pod([imageless]))).rejects.toThrow(/"bare" .*declares no image.*spec\.container\.image.*build-images\.mjs/);
  });
});

describeDocker("docker runtime: restarts and stop", () => {
  beforeAll(() => ensureProjectImage("node-sidecars"), 300_000);

  it("restarts a dying sidecar alone; the main container keeps its process", async () => {
    const runtime = newRuntime();
    const started = await runtime.startPod(pod([container("flaky", "sidecar", []), container("primary", "main", [])]));
    const primaryPid = started.status().find((c) => c.name === "primary")!.pid;
    started.signal("flaky", "SIGKILL");
    await expect.poll(() => started.status().find((c) => c.name === "flaky")!.restartCount, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => started.status().find((c) => c.name === "flaky")!.ready, { timeout: 10_000 }).toBe(true);
    const after = started.status();
    expect(after.find((c) => c.name === "primary")!.pid).toBe(primaryPid);
    expect(after.find((c) => c.name === "primary")!.restartCount).toBe(0);
    expect(started.events().some((e) => e.container === "flaky" && e.type === "exited" && e.detail === "on signal SIGKILL")).toBe(true);
    await started.stop();
  });

  it("has delivered a SIGKILL when signal() returns, as process.kill has on the local runtime", async () => {
    const runtime = newRuntime();
    const started = await runtime.startPod(pod([container("victim", "sidecar", []), container("primary", "main", [])]));
    const url = started.url("victim", "http");
    expect((await fetch(url)).status).toBe(200);
    started.signal("victim", "SIGKILL");
    // Not one more answer from the killed process (the restarted one needs its back-off first).
    expect(await fetch(url, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status, (e: Error) => e.name)).not.toBe(200);
    await started.stop();
  });

  it("stops mains first, then sidecars in reverse start order, and leaves no container", async () => {
    const runtime = newRuntime();
    const spec = pod([
      container("first", "sidecar", ["--drain-ms", "100"]),
      container("second", "sidecar", ["--drain-ms", "100"]),
      container("primary", "main", ["--drain-ms", "200"]),
    ]);
    const started = await runtime.startPod(spec);
    const stopped = await started.stop();
    const order = stopped.events.filter((e) => e.type === "sigterm" || e.type === "stopped").map((e) => `${e.type}:${e.container}`);
    expect(order).toEqual(["sigterm:primary", "stopped:primary", "sigterm:second", "stopped:second", "sigterm:first", "stopped:first"]);
    expect(stopped.containers.every((c) => !c.killed && c.exitCode === 0)).toBe(true);
    expect(await labelledContainers(spec.runId)).toEqual([]);
    expect(await started.stop()).toBe(stopped);
  });

  it("kills a sidecar that ignores SIGTERM at the end of the grace period", async () => {
    const runtime = newRuntime();
    const grace = 800;
    const started = await runtime.startPod(pod([container("stubborn", "sidecar", ["--ignore-sigterm"]), container("primary", "main", [])], grace));
    const stopped = await started.stop();
    const stubborn = stopped.containers.find((c) => c.name === "stubborn")!;
    expect(stubborn.killed).toBe(true);
    expect(stubborn.signal).toBe("SIGKILL");
    expect(stopped.stopDurationMs).toBeGreaterThanOrEqual(grace - 50);
    expect(started.logs("stubborn").join("\n")).toContain('"event":"sigterm"');
  });
});

describeDocker("docker runtime: accounting, limits and labels", () => {
  beforeAll(() => ensureProjectImage("node-sidecars"), 300_000);

  it("reports CPU and memory per container from the Docker stats API", async () => {
    const runtime = newRuntime();
    const started = await runtime.startPod(pod([container("burner", "main", ["--burn-cpu-ms", "300"], { probes: {} })]));
    await expect.poll(() => started.logs("burner").join("\n"), { timeout: 5_000 }).toContain('"event":"burned"');
    const stats = await started.stats("burner");
    expect(stats.source).toBe("docker");
    expect(stats.cpuUsageUs).toBeGreaterThanOrEqual(200_000);
    expect(stats.memoryBytes).toBeGreaterThan(5 * 1024 * 1024);
    await started.stop();
  });

  it("enforces memory and CPU limits from the spec", async () => {
    const runtime = newRuntime();
    const hog = container("hog", "main", ["--alloc-mib", "200"], { resources: { memoryMiB: 96 }, probes: {} });
    const burner = container("burner", "sidecar", ["--burn-cpu-ms", "600"], { resources: { cpus: 0.2 }, probes: {} });
    const started = await runtime.startPod(pod([burner, hog]));
    await expect.poll(() => started.status().find((c) => c.name === "hog")!.state, { timeout: 15_000 }).toBe("exited");
    expect(started.status().find((c) => c.name === "hog")!.exitSignal).toBe("SIGKILL");
    await expect.poll(async () => (await started.stats("burner")).throttledPeriods ?? 0, { timeout: 10_000 }).toBeGreaterThan(0);
    await started.stop();
  });

  it("labels containers with the run id and owner, and reaps those of a dead harness", async () => {
    const runtime = newRuntime();
    const spec = pod([container("primary", "main", [])]);
    const started = await runtime.startPod(spec);
    const { dockerode } = await connectDockerEngine();
    const [id] = await labelledContainers(spec.runId);
    const labels = (await dockerode.getContainer(id!).inspect()).Config.Labels;
    expect(labels[LABEL_OWNER_PID]).toBe(String(process.pid));
    // A live harness's containers are left alone.
    expect((await runtime.reapOrphans()).some((line) => line.includes(spec.runId))).toBe(false);
    await started.stop();
  });
});
