// PodStatusTracker on a real recording (fixtures/pod-status-recording.json: watch
// snapshots and `ctr events` of one run on the project's cluster; how it was made is in
// its description) and on small hand-made snapshots for the corners the recording lacks.
import { readFileSync } from "node:fs";
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { PodEvent } from "../pod-runtime.ts";
import { parseTaskEvent } from "./containerd-task-events.ts";
import { exitOf, PodStatusTracker, type TaskTimes, type TrackedContainer } from "./pod-status.ts";

interface Snapshot {
  atMs: number;
  type: string;
  pod: V1Pod;
}
interface Recording {
  clock: { perfMs: number; epochMs: number };
  containers: TrackedContainer[];
  pods: Record<"status-rec" | "stuck-rec", { createdAtMs: number; actions: Array<{ atMs: number; what: string }>; snapshots: Snapshot[] }>;
  ctrEvents: Array<{ atMs: number; line: string }>;
}

const recording = JSON.parse(readFileSync(new URL("./fixtures/pod-status-recording.json", import.meta.url), "utf8")) as Recording;
const run = recording.pods["status-rec"];
const bare = (id: string) => id.replace(/^containerd:\/\//, "");

/** Task times as the runtime's ContainerdTaskEvents keeps them: the last start and exit seen per container id. */
function recordedTaskTimes(): TaskTimes {
  const starts = new Map<string, number>();
  const exits = new Map<string, number>();
  for (const { line } of recording.ctrEvents) {
    const event = parseTaskEvent(line, () => recording.clock.perfMs, () => recording.clock.epochMs);
    if (event) (event.type === "start" ? starts : exits).set(event.containerId, event.atMs);
  }
  return { startOf: (id) => starts.get(bare(id)), exitOf: (id) => exits.get(bare(id)) };
}

/** The wall-clock time of a ctr line's field, on the recording's performance.now() scale, ms after the pod's create request. */
function ctrTime(topic: "start" | "exit", containerId: string): number {
  const line = recording.ctrEvents.find((e) => e.line.includes(` /tasks/${topic} `) && e.line.includes(`"container_id":"${containerId}","`) && (topic === "start" || e.line.includes(`"id":"${containerId}"`)));
  if (!line) throw new Error(`no /tasks/${topic} of ${containerId} in the recording`);
  const json = JSON.parse(line.line.slice(line.line.indexOf("{"))) as { exited_at?: string };
  const wall = topic === "exit" ? json.exited_at! : `${line.line.slice(0, 10)}T${line.line.slice(11, line.line.indexOf(" +0000"))}Z`;
  const micros = Number((/\.(\d+)/.exec(wall)?.[1] ?? "").padEnd(6, "0").slice(3, 6)) / 1000;
  return recording.clock.perfMs - (recording.clock.epochMs - (Date.parse(wall) + micros)) - run.createdAtMs;
}

function statusOf(pod: V1Pod, name: string): V1ContainerStatus | undefined {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((s) => s.name === name);
}

function replay(snapshots: Snapshot[], taskTimes?: TaskTimes): PodStatusTracker {
  const tracker = new PodStatusTracker(recording.containers, run.createdAtMs, taskTimes);
  for (const { pod, atMs } of snapshots) tracker.observe(pod, atMs);
  return tracker;
}

const brief = (events: PodEvent[]) => events.map((e) => `${e.container} ${e.type}${e.detail ? ` (${e.detail})` : ""}`);

/** The first snapshot after which `predicate` holds. */
function firstSnapshot(predicate: (pod: V1Pod) => boolean): Snapshot {
  const found = run.snapshots.find((s) => predicate(s.pod));
  if (!found) throw new Error("no such snapshot in the recording");
  return found;
}

// Container ids of the recording, read from its snapshots.
const proxyIds = [...new Set(run.snapshots.map((s) => statusOf(s.pod, "proxy")?.containerID).filter((id): id is string => Boolean(id)))].map(bare);
const appId = bare(run.snapshots.map((s) => statusOf(s.pod, "app")?.containerID).find(Boolean)!);

describe("PodStatusTracker on a recorded pod (sidecar SIGKILLed twice, then the pod deleted)", () => {
  it("the recording is what its description says", () => {
    expect(proxyIds).toHaveLength(3);
    expect(run.actions.map((a) => a.what.replace(/ pid \d+/, ""))).toEqual(["create pod status-rec", "kill -SIGKILL proxy", "kill -SIGKILL proxy", "delete pod status-rec"]);
    expect(run.snapshots.at(-1)!.type).toBe("DELETED");
  });

  it("reports the kubelet's sequence: sidecar started and ready before the main starts, each SIGKILL as an exit, a restart and a new start, the main's exit before the sidecar's", () => {
    const tracker = replay(run.snapshots, recordedTaskTimes());
    expect(brief(tracker.events())).toEqual([
      "proxy starting",
      "proxy started",
      "proxy ready",
      "app starting",
      "app started",
      "app ready",
      "proxy exited (on signal SIGKILL)",
      // The API showed the readiness probe's failure after containerd had timed the exit.
      "proxy not-ready",
      "proxy restarting (restart 1 by the kubelet)",
      "proxy starting",
      "proxy started",
      "proxy ready",
      "proxy exited (on signal SIGKILL)",
      "proxy not-ready",
      "proxy restarting (restart 2 by the kubelet)",
      "proxy starting",
      "proxy started",
      "proxy ready",
      // Deletion: the main (sh trapping SIGTERM into exit 3) goes first, then the sidecar (python's default SIGTERM: 128 + 15).
      "app exited (with code 3)",
      "proxy exited (on signal SIGTERM)",
      "proxy not-ready",
      "app not-ready",
    ]);
  });

  it("stamps starts and exits with containerd's exact times, not the snapshot's", () => {
    const events = replay(run.snapshots, recordedTaskTimes()).events();
    const at = (container: string, type: PodEvent["type"]) => events.filter((e) => e.container === container && e.type === type).map((e) => e.atMs);
    expect(at("proxy", "starting")).toEqual(proxyIds.map((id) => ctrTime("start", id)));
    expect(at("proxy", "exited")).toEqual(proxyIds.map((id) => ctrTime("exit", id)));
    expect(at("app", "starting")).toEqual([ctrTime("start", appId)]);
    expect(at("app", "exited")).toEqual([ctrTime("exit", appId)]);
    // containerd knew each exit before the API showed it.
    for (const id of proxyIds.slice(0, 2)) {
      const shown = firstSnapshot((pod) => statusOf(pod, "proxy")?.state?.terminated?.containerID === `containerd://${id}`);
      expect(ctrTime("exit", id)).toBeLessThan(shown.atMs - run.createdAtMs);
    }
  });

  it("a restart takes the new instance's start time and precedes it; events come sorted by time", () => {
    const events = replay(run.snapshots, recordedTaskTimes()).events();
    for (const restart of events.filter((e) => e.type === "restarting")) {
      const index = events.indexOf(restart);
      expect(events[index + 1]).toMatchObject({ container: restart.container, type: "starting", atMs: restart.atMs });
      expect(events.slice(0, index).filter((e) => e.container === restart.container).at(-2)).toMatchObject({ type: "exited" });
    }
    expect(events.map((e) => e.atMs)).toEqual([...events.map((e) => e.atMs)].sort((a, b) => a - b));
  });

  it("times to started and ready count from the first container's start (the NAT init container and the sandbox are the cluster's)", () => {
    const statuses = replay(run.snapshots, recordedTaskTimes()).statuses();
    const firstStart = ctrTime("start", proxyIds[0]!);
    const seen = (name: string, field: "started" | "ready") => firstSnapshot((pod) => statusOf(pod, name)?.[field] === true).atMs - run.createdAtMs;
    const proxy = statuses.find((s) => s.name === "proxy")!;
    const app = statuses.find((s) => s.name === "app")!;
    expect(proxy.timeToStartedMs).toBeCloseTo(seen("proxy", "started") - firstStart, 6);
    expect(proxy.timeToReadyMs).toBeCloseTo(seen("proxy", "ready") - firstStart, 6);
    expect(app.timeToStartedMs).toBeCloseTo(seen("app", "started") - firstStart, 6);
    expect(app.timeToReadyMs).toBeCloseTo(seen("app", "ready") - firstStart, 6);
    // The NAT init container ran (and exited) before the sidecar started: none of it is counted.
    const netInit = bare(statusOf(run.snapshots.at(-1)!.pod, "sidecar-bench-net")!.containerID!);
    expect(ctrTime("exit", netInit)).toBeLessThan(firstStart);
  });

  it("later restarts keep the first times to started and ready", () => {
    const tracker = new PodStatusTracker(recording.containers, run.createdAtMs, recordedTaskTimes());
    const upTo = run.snapshots.findIndex((s) => statusOf(s.pod, "app")?.ready === true);
    for (const s of run.snapshots.slice(0, upTo + 1)) tracker.observe(s.pod, s.atMs);
    const before = tracker.statuses();
    for (const s of run.snapshots.slice(upTo + 1)) tracker.observe(s.pod, s.atMs);
    const after = tracker.statuses();
    for (const name of ["proxy", "app"]) {
      const b = before.find((s) => s.name === name)!;
      const a = after.find((s) => s.name === name)!;
      expect(a.timeToStartedMs).toBe(b.timeToStartedMs);
      expect(a.timeToReadyMs).toBe(b.timeToReadyMs);
    }
  });

  it("ends with each container's exit, restart count and the API's phase", () => {
    const tracker = replay(run.snapshots, recordedTaskTimes());
    expect(tracker.statuses().map(({ name, kind, state, started, ready, restartCount, exitCode, exitSignal }) => ({ name, kind, state, started, ready, restartCount, exitCode, exitSignal }))).toEqual([
      { name: "proxy", kind: "sidecar", state: "exited", started: false, ready: false, restartCount: 2, exitCode: null, exitSignal: "SIGTERM" },
      { name: "app", kind: "main", state: "exited", started: false, ready: false, restartCount: 0, exitCode: 3, exitSignal: null },
    ]);
    expect(tracker.phase()).toBe("Failed");
    expect(tracker.isReady()).toBe(false);
    expect(tracker.containerId("proxy")).toBe(`containerd://${proxyIds[2]}`);
    expect(tracker.lastSnapshot()).toBe(run.snapshots.at(-1)!.pod);
  });

  it("follows the pod's Ready condition and each container's state through the run", () => {
    const tracker = new PodStatusTracker(recording.containers, run.createdAtMs, recordedTaskTimes());
    const seen: string[] = [];
    for (const s of run.snapshots) {
      tracker.observe(s.pod, s.atMs);
      const proxy = tracker.statuses()[0]!;
      const line = `${tracker.isReady() ? "Ready" : "-"} proxy ${proxy.state}${proxy.started ? " started" : ""}${proxy.ready ? " ready" : ""}`;
      if (seen.at(-1) !== line) seen.push(line);
    }
    expect(seen).toEqual([
      "- proxy waiting",
      "- proxy starting",
      "- proxy running started",
      "- proxy running started ready",
      "Ready proxy running started ready",
      "- proxy running started",
      "- proxy exited",
      "- proxy starting",
      "- proxy running started",
      "Ready proxy running started ready",
      "- proxy running started",
      "- proxy exited",
      "- proxy starting",
      "- proxy running started",
      "Ready proxy running started ready",
      "- proxy exited",
    ]);
  });

  it("reports each exit once, however many snapshots show it (terminated, then as lastState)", () => {
    const tracker = new PodStatusTracker(recording.containers, run.createdAtMs, recordedTaskTimes());
    for (const s of [...run.snapshots, ...run.snapshots.slice(-3)]) tracker.observe(s.pod, s.atMs);
    expect(tracker.events().filter((e) => e.type === "exited").map((e) => e.container)).toEqual(["proxy", "proxy", "app", "proxy"]);
  });

  it("sees a quick restart through lastState.terminated alone (no snapshot showed the exited instance)", () => {
    const shownExited = run.snapshots.filter((s) => statusOf(s.pod, "proxy")?.state?.terminated?.containerID === `containerd://${proxyIds[0]}`);
    expect(shownExited.length).toBeGreaterThan(0);
    const snapshots = run.snapshots.filter((s) => !shownExited.includes(s));
    // The snapshot that follows shows the new instance running, the old one only as lastState.
    const next = snapshots[run.snapshots.indexOf(shownExited[0]!)]!;
    expect(statusOf(next.pod, "proxy")).toMatchObject({ restartCount: 1, state: { running: {} }, lastState: { terminated: { exitCode: 137, containerID: `containerd://${proxyIds[0]}` } } });

    for (const taskTimes of [recordedTaskTimes(), undefined]) {
      const tracker = replay(snapshots, taskTimes);
      const proxyEvents = tracker.events().filter((e) => e.container === "proxy" && e.type !== "ready" && e.type !== "not-ready");
      const firstExit = proxyEvents.findIndex((e) => e.type === "exited");
      expect(brief(proxyEvents.slice(firstExit, firstExit + 3))).toEqual(["proxy exited (on signal SIGKILL)", "proxy restarting (restart 1 by the kubelet)", "proxy starting"]);
      expect(proxyEvents.filter((e) => e.type === "exited")).toHaveLength(3);
    }
    const exact = replay(snapshots, recordedTaskTimes()).events().find((e) => e.type === "exited")!;
    expect(exact.atMs).toBe(ctrTime("exit", proxyIds[0]!));
  });

  it("without the node's task times, stamps events at the snapshots and counts from the first container's first snapshot", () => {
    const tracker = replay(run.snapshots);
    const events = tracker.events();
    const snapshotTimes = new Set(run.snapshots.map((s) => s.atMs - run.createdAtMs));
    for (const e of events) expect(snapshotTimes.has(e.atMs)).toBe(true);
    const firstRunning = firstSnapshot((pod) => statusOf(pod, "proxy")?.state?.running !== undefined).atMs;
    const proxyStarted = firstSnapshot((pod) => statusOf(pod, "proxy")?.started === true).atMs;
    expect(tracker.statuses()[0]!.timeToStartedMs).toBeCloseTo(proxyStarted - firstRunning, 6);
    expect(events.map((e) => e.atMs)).toEqual([...events.map((e) => e.atMs)].sort((a, b) => a - b));
  });
});

describe("PodStatusTracker.stuck on a recorded pod whose sidecar image the node lacks", () => {
  const stuckRun = recording.pods["stuck-rec"];

  it("is not stuck while initializing, stuck with the kubelet's reason and message once it says ErrImageNeverPull", () => {
    const tracker = new PodStatusTracker(recording.containers, stuckRun.createdAtMs);
    const fatalAt = stuckRun.snapshots.findIndex((s) => statusOf(s.pod, "proxy")?.state?.waiting?.reason === "ErrImageNeverPull");
    expect(fatalAt).toBeGreaterThan(0);
    for (const s of stuckRun.snapshots.slice(0, fatalAt)) {
      tracker.observe(s.pod, s.atMs);
      expect(tracker.stuck()).toEqual([]);
    }
    tracker.observe(stuckRun.snapshots[fatalAt]!.pod, stuckRun.snapshots[fatalAt]!.atMs);
    const stuck = tracker.stuck();
    expect(stuck).toHaveLength(1);
    expect(stuck[0]).toMatchObject({ name: "proxy", reason: "ErrImageNeverPull" });
    expect(stuck[0]!.message).toContain("sidecar-bench/not-on-this-node:0");
    expect(tracker.statuses().map((s) => s.state)).toEqual(["waiting", "waiting"]);
    expect(tracker.events()).toEqual([]);
    expect(tracker.phase()).toBe("Pending");
  });
});

// Small snapshots for what the recording does not show.
function pod(statuses: { init?: V1ContainerStatus[]; main?: V1ContainerStatus[] }, ready = false): V1Pod {
  return {
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
      initContainerStatuses: statuses.init ?? [],
      containerStatuses: statuses.main ?? [],
    },
  };
}
function container(name: string, fields: Partial<V1ContainerStatus>): V1ContainerStatus {
  return { name, image: "x", imageID: "", ready: false, restartCount: 0, ...fields };
}
const tracked: TrackedContainer[] = [
  { name: "Proxy_1", kubernetesName: "proxy-1-abcde", kind: "sidecar" },
  { name: "app", kubernetesName: "app", kind: "main" },
];

describe("PodStatusTracker on hand-made snapshots", () => {
  it("matches statuses by the Pod's container names and reports them by the spec's", () => {
    const tracker = new PodStatusTracker(tracked, 1_000);
    tracker.observe(pod({ init: [container("proxy-1-abcde", { containerID: "containerd://a", state: { running: {} }, started: true, ready: true })] }), 1_500);
    expect(tracker.statuses()[0]).toMatchObject({ name: "Proxy_1", kind: "sidecar", state: "running", started: true, ready: true, timeToStartedMs: 0, timeToReadyMs: 0 });
    expect(tracker.statuses()[1]).toMatchObject({ name: "app", kind: "main", state: "waiting" });
    expect(tracker.events().map((e) => [e.container, e.type, e.atMs])).toEqual([
      ["Proxy_1", "starting", 500],
      ["Proxy_1", "started", 500],
      ["Proxy_1", "ready", 500],
    ]);
  });

  it("a running container not yet past its startup probe is starting, not started", () => {
    const tracker = new PodStatusTracker(tracked, 0);
    tracker.observe(pod({ init: [container("proxy-1-abcde", { containerID: "containerd://a", state: { running: {} }, started: false })] }), 10);
    expect(tracker.statuses()[0]).toMatchObject({ state: "starting", started: false });
    tracker.observe(pod({ init: [container("proxy-1-abcde", { containerID: "containerd://a", state: { running: {} }, started: true })] }), 30);
    expect(tracker.statuses()[0]).toMatchObject({ state: "running", started: true, timeToStartedMs: 20 });
  });

  it("a container that started and exited between two snapshots is reported started by containerd's time, then exited", () => {
    const times: TaskTimes = { startOf: (id) => (id === "containerd://b" ? 105 : undefined), exitOf: (id) => (id === "containerd://b" ? 110 : undefined) };
    const tracker = new PodStatusTracker(tracked, 100, times);
    tracker.observe(pod({ main: [container("app", { containerID: "containerd://b", state: { terminated: { exitCode: 1, containerID: "containerd://b" } } })] }), 300);
    expect(tracker.events().map((e) => [e.type, e.atMs, e.detail])).toEqual([
      ["starting", 5, undefined],
      ["exited", 10, "with code 1"],
    ]);
    expect(tracker.statuses()[1]).toMatchObject({ state: "exited", exitCode: 1, exitSignal: null });
  });

  it("a container waiting to be restarted stays exited (its last exit is what callers need)", () => {
    const tracker = new PodStatusTracker(tracked, 0);
    tracker.observe(pod({ init: [container("proxy-1-abcde", { containerID: "containerd://a", state: { running: {} }, started: true })] }), 1);
    tracker.observe(
      pod({ init: [container("proxy-1-abcde", { containerID: "containerd://a", restartCount: 1, state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 10s restarting failed container" } }, lastState: { terminated: { exitCode: 137, containerID: "containerd://a" } } })] }),
      2,
    );
    expect(tracker.statuses()[0]).toMatchObject({ state: "exited", exitSignal: "SIGKILL", restartCount: 1, started: false });
    expect(tracker.stuck()).toEqual([{ name: "Proxy_1", reason: "CrashLoopBackOff", message: "back-off 10s restarting failed container" }]);
  });

  it("does not take a lastState of an instance it never saw for an exit of its own", () => {
    const tracker = new PodStatusTracker(tracked, 0);
    tracker.observe(pod({ init: [container("proxy-1-abcde", { containerID: "containerd://new", restartCount: 3, state: { running: {} }, lastState: { terminated: { exitCode: 2, containerID: "containerd://old" } } })] }), 5);
    expect(tracker.events().map((e) => e.type)).toEqual(["restarting", "starting"]);
    expect(tracker.statuses()[0]).toMatchObject({ state: "starting", restartCount: 3 });
  });

  it("puts notes in time order among the API's events", () => {
    const tracker = new PodStatusTracker(tracked, 0);
    tracker.observe(pod({ main: [container("app", { containerID: "containerd://b", state: { running: {} }, started: true })] }), 100);
    tracker.note("app", "sigterm", 50, "Stopping container app");
    expect(tracker.events().map((e) => [e.type, e.atMs])).toEqual([
      ["sigterm", 50],
      ["starting", 100],
      ["started", 100],
    ]);
  });

  it("names as stuck only waiting reasons a pod cannot get past by itself", () => {
    const waiting = (reason: string) => {
      const tracker = new PodStatusTracker(tracked, 0);
      tracker.observe(pod({ main: [container("app", { state: { waiting: { reason, message: "m" } } })] }), 1);
      return tracker.stuck().map((s) => s.reason);
    };
    for (const reason of ["ErrImageNeverPull", "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError", "RunContainerError", "CrashLoopBackOff"]) {
      expect(waiting(reason)).toEqual([reason]);
    }
    for (const reason of ["ContainerCreating", "PodInitializing"]) expect(waiting(reason)).toEqual([]);
  });
});

describe("exitOf", () => {
  it.each([
    [0, { code: 0, signal: null }],
    [3, { code: 3, signal: null }],
    [128, { code: 128, signal: null }],
    [130, { code: null, signal: "SIGINT" }],
    [134, { code: null, signal: "SIGABRT" }],
    [137, { code: null, signal: "SIGKILL" }],
    [143, { code: null, signal: "SIGTERM" }],
    [157, { code: null, signal: "SIGIO" }],
    // No signal 127: an exit code of its own.
    [255, { code: 255, signal: null }],
  ])("exit code %i", (exitCode, expected) => {
    expect(exitOf({ exitCode })).toEqual(expected);
  });

  it("names signals as a process's own exit does (Node's name for the number)", async () => {
    const { spawnSync } = await import("node:child_process");
    for (const number of [6, 29]) {
      const signal = spawnSync("sh", ["-c", `kill -${number} $$`]).signal;
      expect(exitOf({ exitCode: 128 + number }).signal).toBe(signal);
    }
  });

  it("takes the API's signal field where it is set", () => {
    expect(exitOf({ exitCode: 0, signal: 9 })).toEqual({ code: null, signal: "SIGKILL" });
  });
});

describe("PodStatusTracker.capLast", () => {
  it("moves an event the harness learned of late back before what it caused, never later", () => {
    const tracker = new PodStatusTracker([{ name: "app", kubernetesName: "app", kind: "main" }], 1_000);
    tracker.note("app", "sigterm", 1_200, "Stopping container app");
    tracker.capLast("app", "sigterm", 1_150);
    expect(tracker.events()).toEqual([{ atMs: 150, container: "app", type: "sigterm", detail: "Stopping container app" }]);
    tracker.capLast("app", "sigterm", 1_180);
    expect(tracker.events()[0]!.atMs).toBe(150);
    tracker.capLast("app", "ready", 1_000);
    expect(tracker.events()).toHaveLength(1);
  });
});
