// The kubernetes runtime against a real API server and kubelet: the project's own cluster
// (`npm test` starts it; kubernetes-test-cluster.ts says when these skip). What is
// checked is that the runtime reports what the kubelet did — native-sidecar start order,
// readiness, restarts, the stop order and the grace period — and cleans up after itself.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { clusterLayout } from "../../cluster/cluster-layout.ts";
import type { ContainerSpec, PodEvent, PodSpec, ProbeSpec } from "../pod-runtime.ts";
import { PodStartError } from "../pod-runtime.ts";
import { KubeConnection } from "./kube-connection.ts";
import { LABEL_RUN_ID, runNamespace } from "./kube-names.ts";
import { KubernetesPod } from "./kubernetes-pod.ts";
import { KubernetesRuntime } from "./kubernetes-runtime.ts";
import { kubernetesTestCluster } from "./kubernetes-test-cluster.ts";
import { killHarnessHoldingPod } from "../fixtures/killed-harness.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const fixtureDir = join(root, "harness", "runtime", "local", "fixtures");
const cluster = await kubernetesTestCluster();
if (cluster.skipReason) console.warn(`kubernetes runtime tests skipped: ${cluster.skipReason}`);
const describeKubernetes = cluster.skipReason ? describe.skip : describe;

const probe = (port: string, path = "/"): ProbeSpec => ({ action: { http: { port, path } }, periodMs: 1_000, timeoutMs: 1_000, failureThreshold: 1 });

function container(name: string, kind: "sidecar" | "main", port: number, flags: string[] = [], overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name,
    kind,
    command: ["node", "fixture-server.mjs", "--name", name, "--port", "{{ port 'http' }}", ...flags],
    baseDir: fixtureDir,
    image: "sidecar-bench/node-sidecars:latest",
    ports: { http: port },
    probes: { startup: probe("http"), readiness: probe("http", "/ready") },
    startupTimeoutMs: 30_000,
    ...overrides,
  };
}

const runId = `test-k8s-${process.pid}-${Date.now()}`;
let counter = 0;
function pod(containers: ContainerSpec[], terminationGracePeriodMs = 5_000): PodSpec {
  return { name: `pod${++counter}`, runId, containers, terminationGracePeriodMs };
}

function newRuntime(podAccess: "auto" | "port-forward" = "auto"): KubernetesRuntime {
  return new KubernetesRuntime({
    workDir: mkdtempSync(join(tmpdir(), "sb-k8s-")),
    projectRoot: root,
    target: { kubeconfig: cluster.kubeconfig },
    podAccess,
    localCluster: clusterLayout(),
  });
}

function at(events: PodEvent[], container: string, type: PodEvent["type"]): number {
  const event = events.find((e) => e.container === container && e.type === type);
  if (!event) throw new Error(`no "${type}" event of ${container} in: ${events.map((e) => `${e.container} ${e.type}`).join(", ")}`);
  return event.atMs;
}

describeKubernetes("kubernetes runtime on the project's cluster", () => {
  const runtime = newRuntime();
  afterAll(async () => {
    await runtime.stopAll();
  }, 120_000);

  it("starts sidecars in order, each after the previous one's startup probe, and reports readiness from the kubelet", async () => {
    let createdBeforeReady = false;
    const spec = pod([
      container("first", "sidecar", 8101, ["--startup-delay-ms", "500"]),
      container("second", "sidecar", 8102),
      container("main", "main", 8103, ["--hello-to", "http://127.0.0.1:8101/"]),
    ]);
    const started = await runtime.startPod(spec, { onCreated: (p) => (createdBeforeReady = !p.status().every((s) => s.ready) && p.url("main", "http").startsWith("http://")) });
    expect(createdBeforeReady).toBe(true);
    const events = started.events();
    expect(at(events, "first", "started")).toBeLessThanOrEqual(at(events, "second", "starting"));
    expect(at(events, "second", "started")).toBeLessThanOrEqual(at(events, "main", "starting"));
    for (const status of started.status()) {
      expect(status).toMatchObject({ ready: true, started: true, state: "running", restartCount: 0 });
      expect(status.pid).toBeGreaterThan(0);
      expect(status.timeToReadyMs).toBeGreaterThan(0);
    }
    // Containers of a pod share its localhost: the main reached the first sidecar there.
    await expect.poll(() => started.logs("main").join("\n"), { timeout: 5_000 }).toContain("first");
    // And the harness reaches each container at the pod's address.
    const answer = await fetch(`${started.url("second", "http")}/`);
    expect(await answer.text()).toMatch(/^second \d+$/);
    // The API holds a native-sidecar pod: init containers with restartPolicy Always after the NAT init container.
    const { core } = KubeConnection.load({ kubeconfig: cluster.kubeconfig });
    const api = await core.readNamespacedPod({ name: (started as KubernetesPod).podName, namespace: runNamespace(runId) });
    expect(api.spec?.initContainers?.map((c) => [c.name, c.restartPolicy])).toEqual([["sidecar-bench-net", undefined], ["first", "Always"], ["second", "Always"]]);
    expect(api.metadata?.labels?.[LABEL_RUN_ID]).toBe(runId);

    // A sidecar that dies is restarted by the kubelet, alone.
    const mainPid = started.status().find((s) => s.name === "main")!.pid;
    started.signal("second", "SIGKILL");
    await expect.poll(() => started.status().find((s) => s.name === "second"), { timeout: 30_000, interval: 100 }).toMatchObject({ restartCount: 1, ready: true });
    expect(started.status().find((s) => s.name === "main")).toMatchObject({ pid: mainPid, restartCount: 0 });
    const afterKill = started.events();
    expect(at(afterKill, "second", "exited")).toBeLessThan(at(afterKill, "second", "restarting"));
    expect(afterKill.find((e) => e.container === "second" && e.type === "exited")?.detail).toBe("on signal SIGKILL");

    // Stop: the main gets SIGTERM and exits before the sidecars, which go in reverse order.
    const stopped = await started.stop();
    const e = stopped.events;
    expect(at(e, "main", "sigterm")).toBeLessThanOrEqual(at(e, "main", "exited"));
    expect(at(e, "main", "exited")).toBeLessThanOrEqual(at(e, "second", "sigterm"));
    expect(at(e, "second", "exited")).toBeLessThanOrEqual(at(e, "first", "sigterm"));
    expect(stopped.containers.every((c) => !c.killed)).toBe(true);
    // Stopping twice is the same stop.
    expect(await started.stop()).toBe(stopped);
  }, 120_000);

  it("kills a container that ignores SIGTERM at the end of the grace period", async () => {
    const started = await runtime.startPod(pod([container("stubborn", "sidecar", 8111, ["--ignore-sigterm"]), container("main", "main", 8112)], 2_000));
    const stopped = await started.stop();
    expect(stopped.containers.find((c) => c.name === "stubborn")).toMatchObject({ killed: true, signal: "SIGKILL" });
    expect(stopped.stopDurationMs).toBeGreaterThanOrEqual(2_000);
    expect(stopped.events.some((e) => e.container === "stubborn" && e.type === "sigkill")).toBe(true);
  }, 90_000);

  it("fails the start of a container that exits at once, with its last log lines, within the start-up bound", async () => {
    const began = performance.now();
    const failure = await runtime.startPod(pod([container("quitter", "sidecar", 8121, ["--exit-after-ms", "0"]), container("main", "main", 8122)])).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PodStartError);
    expect((failure as PodStartError).message).toMatch(/container "quitter" exited with code 3 before the pod became ready/);
    expect((failure as PodStartError).lastLogLines.join("\n")).toContain('"event":"started"');
    expect(performance.now() - began).toBeLessThan(30_000);
  }, 60_000);

  it("names the image and how to load it when the node lacks it", async () => {
    const failure = await runtime
      .startPod(pod([container("missing", "main", 8131, [], { image: "sidecar-bench/not-built:v1" })]))
      .catch((e: unknown) => e);
    expect((failure as Error).message).toMatch(/container "missing" cannot start: ErrImageNeverPull.*sidecar-bench\/not-built:v1.*(ctr -n k8s.io images import|kind load docker-image)/s);
  }, 60_000);

  it("gives up on a pod no node can take, naming the scheduler's reason, without waiting out the start-up bound", async () => {
    const began = performance.now();
    const failure = await runtime.startPod(pod([container("greedy", "main", 8135, [], { resources: { cpus: 64 } })])).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PodStartError);
    expect((failure as Error).message).toMatch(/cannot start: the pod was not scheduled for \d+ s \(.*Insufficient cpu/);
    expect(performance.now() - began).toBeLessThan(25_000);
  }, 60_000);

  it("reads a container's CPU, memory and throttling from its cgroup on the node", async () => {
    const started = await runtime.startPod(
      pod([container("busy", "main", 8141, ["--alloc-mib", "64", "--burn-cpu-ms", "3000"], { resources: { cpus: 0.2, memoryMiB: 256 } })]),
    );
    await expect
      .poll(async () => (await started.stats("busy")).throttledPeriods ?? 0, { timeout: 20_000, interval: 250 })
      .toBeGreaterThan(0);
    const stats = await started.stats("busy");
    expect(stats.memoryBytes).toBeGreaterThan(60 * 1024 * 1024);
    expect(stats.cpuUsageUs).toBeGreaterThan(100_000);
    expect(stats.source).toMatch(/^cgroup-v[12]$/);
    await started.stop();
  }, 90_000);

  it("sends open-loop rounds from a generator pod beside the pods, to their addresses", async () => {
    const target = await runtime.startPod(pod([container("served", "main", 8151)]));
    const driver = await runtime.openLoopDriver(runId, { placement: "same-node" });
    try {
      const url = driver.targetUrl(target, "served", "http");
      expect(url).toBe(`http://${(target as KubernetesPod).address()}:8151`);
      const [result] = await driver.run({
        targets: [{ url, request: { path: "/", method: "GET", headers: {}, body: Buffer.alloc(0) } }],
        slotMs: 1_000,
        slotOrder: [0],
        ratePerSec: 100,
        arrival: "constant",
        seed: 1,
        maxRequests: 200,
        timeoutMs: 2_000,
        maxConnections: 4,
      });
      expect(result!.summary.ok).toBeGreaterThan(90);
      expect(result!.histograms.latency.totalCount).toBe(result!.summary.ok);
      expect(driver.description).toMatch(/in pod .*sidecar-bench-loadgen-.* on node localhost/);
    } finally {
      await driver.close();
      await target.stop();
    }
  }, 120_000);

  it("says why a generator placed on another node cannot run on a one-node cluster", async () => {
    const target = await runtime.startPod(pod([container("alone", "main", 8155)]));
    try {
      await expect(runtime.openLoopDriver(runId, { placement: "other-node" })).rejects.toThrow(/load generator pod .* not running: unschedulable: .*\(placement other-node needs a second node\)/);
    } finally {
      await target.stop();
    }
  }, 90_000);

  it("deletes the run's namespace, pods and ConfigMaps on stopAll", async () => {
    const other = newRuntime();
    const otherRun = `${runId}-stopall`;
    await other.startPod({ name: "left", runId: otherRun, terminationGracePeriodMs: 1_000, containers: [container("main", "main", 8161)] });
    await other.stopAll();
    const { core } = KubeConnection.load({ kubeconfig: cluster.kubeconfig });
    const gone = await core.readNamespace({ name: runNamespace(otherRun) }).then(() => false, (error: { code?: number }) => error.code === 404);
    expect(gone).toBe(true);
  }, 90_000);
});

describeKubernetes("kubernetes runtime as from a harness off the node", () => {
  it("reaches pods through port-forward, signals them by exec and reads the kubelet's stats", async () => {
    const runtime = new KubernetesRuntime({
      workDir: mkdtempSync(join(tmpdir(), "sb-k8s-remote-")),
      projectRoot: root,
      target: { kubeconfig: cluster.kubeconfig },
      localCluster: clusterLayout(),
      onNode: false,
    });
    try {
      const described = await runtime.describe();
      expect(described).toMatchObject({ podAccess: "port-forward through the API server", accounting: "kubelet stats summary" });
      expect(described.signals).toMatch(/^kill by exec inside the pod/);
      const started = await runtime.startPod({
        name: "remote",
        runId: `${runId}-remote`,
        terminationGracePeriodMs: 1_000,
        containers: [container("side", "sidecar", 8171), container("main", "main", 8172)],
      });
      const url = started.url("main", "http");
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${url}/`)).text()).toMatch(/^main \d+$/);
      // SIGKILL by exec: the kubelet restarts the sidecar, the main keeps running.
      started.signal("side", "SIGKILL");
      await expect.poll(() => started.status().find((s) => s.name === "side")?.restartCount, { timeout: 30_000, interval: 200 }).toBe(1);
      expect(started.logs("side").join("\n")).toMatch(/SIGKILL sent by exec in container/);
      expect(started.status().find((s) => s.name === "main")?.restartCount).toBe(0);
      // The kubelet's summary knows a container after its next housekeeping (seconds).
      await expect
        .poll(() => started.stats("main").then((stats) => stats.memoryBytes, () => 0), { timeout: 60_000, interval: 1_000 })
        .toBeGreaterThan(1024 * 1024);
      expect((await started.stats("main")).source).toBe("kubernetes");
    } finally {
      await runtime.stopAll();
    }
  }, 150_000);
});

describeKubernetes("kubernetes runtime: a killed harness", () => {
  it("leaves a namespace that the next run reaps", async () => {
    const killedRun = `${runId}-killed`;
    await killHarnessHoldingPod("kubernetes", killedRun, cluster.kubeconfig);
    const { core } = KubeConnection.load({ kubeconfig: cluster.kubeconfig });
    const namespace = runNamespace(killedRun);
    expect((await core.listNamespacedPod({ namespace })).items).toHaveLength(1);
    const runtime = newRuntime();
    const reaped = await runtime.reapOrphans();
    expect(reaped.filter((line) => line.includes(namespace))).toHaveLength(1);
    await expect
      .poll(() => core.readNamespace({ name: namespace }).then(() => "present", (error: { code?: number }) => (error.code === 404 ? "gone" : "error")), { timeout: 60_000, interval: 500 })
      .toBe("gone");
    await runtime.stopAll();
  }, 120_000);
});
