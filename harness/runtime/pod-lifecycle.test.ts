import { describe, expect, it } from "vitest";
import type { ExitInfo } from "./container-exit.ts";
import { type ContainerDriver, PodLifecycle } from "./pod-lifecycle.ts";
import type { ContainerSpec, PodSpec, ProbeSpec } from "./pod-runtime.ts";
import { PodStartError } from "./pod-runtime.ts";

// Startup probes are tcp and readiness probes http, so the fake tells them apart.
const startupProbe: ProbeSpec = { action: { tcp: { port: "p" } }, periodMs: 5, timeoutMs: 50, failureThreshold: 1 };
const readinessProbe = (failureThreshold = 1): ProbeSpec => ({
  action: { http: { port: "p", path: "/ready" } },
  periodMs: 10,
  timeoutMs: 50,
  failureThreshold,
});

/** A container whose exits, probes and log the test drives. */
class FakeContainer {
  running = false;
  exit: ExitInfo | null = null;
  pid?: number;
  readonly lines: string[] = [];
  readonly log = {
    note: (line: string) => void this.lines.push(`[note] ${line}`),
    tail: (maxLines = 50) => this.lines.slice(-maxLines),
  };
  /** Startup probes fail this many times first. */
  startupFailures = 0;
  readinessOk = true;
  ignoresSigterm = false;
  /** Exits with this, a moment after each start. */
  exitsAfterStart: ExitInfo | null = null;
  drained = 0;
  private waiters: Array<(exit: ExitInfo) => void> = [];
  private static pids = 1000;

  constructor(private readonly onExit: (exit: ExitInfo) => void) {}

  start(): void {
    this.running = true;
    this.exit = null;
    this.pid = FakeContainer.pids++;
    const exit = this.exitsAfterStart;
    if (exit) setTimeout(() => this.die(exit), 1);
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.running || (sig === "SIGTERM" && this.ignoresSigterm)) return;
    setTimeout(() => this.die({ code: null, signal: sig }), 1);
  }

  die(exit: ExitInfo): void {
    if (!this.running) return;
    this.running = false;
    this.exit = exit;
    for (const waiter of this.waiters.splice(0)) waiter(exit);
    this.onExit(exit);
  }

  waitExit(timeoutMs: number): Promise<ExitInfo | null> {
    if (!this.running) return Promise.resolve(this.exit);
    return new Promise((done) => {
      const timer = setTimeout(() => done(null), Math.max(0, timeoutMs));
      this.waiters.push((exit) => {
        clearTimeout(timer);
        done(exit);
      });
    });
  }
}

function spec(name: string, kind: "sidecar" | "main", probes: ContainerSpec["probes"] = {}): ContainerSpec {
  return { name, kind, command: ["fake"], baseDir: "/", ports: { p: 1 }, probes, startupTimeoutMs: 1_000 };
}

let counter = 0;
function podSpec(containers: ContainerSpec[], options: Partial<PodSpec> = {}): PodSpec {
  return { name: `pod${++counter}`, runId: "test", containers, terminationGracePeriodMs: 200, ...options };
}

/** A lifecycle over fake containers; `asyncStart` makes the driver's start a promise, as docker's is. */
function fakePod(pod: PodSpec, setup: (name: string, container: FakeContainer) => void = () => undefined, asyncStart = false) {
  const fakes = new Map<string, FakeContainer>();
  const driver: ContainerDriver<FakeContainer> = {
    exitNoun: "process",
    start: (container) => (asyncStart ? Promise.resolve().then(() => container.start()) : container.start()),
    kill: (container) => container.die({ code: null, signal: "SIGKILL" }),
    probe: async (container, _name, action) => {
      if ("tcp" in action) {
        const ok = container.startupFailures-- <= 0;
        return { ok, detail: ok ? "tcp: connected" : "tcp: refused" };
      }
      return { ok: container.readinessOk, detail: container.readinessOk ? "GET /ready → 200" : "GET /ready → 503" };
    },
    drainLogs: async (container) => void container.drained++,
  };
  const lifecycle: PodLifecycle<FakeContainer> = new PodLifecycle(pod, driver);
  const create = (container: ContainerSpec) => {
    const fake = new FakeContainer((exit) => lifecycle.exited(container.name, exit));
    setup(container.name, fake);
    fakes.set(container.name, fake);
    return fake;
  };
  return { lifecycle, fakes, start: (readyTimeoutMs?: number, onCreated?: () => void) => lifecycle.start(create, readyTimeoutMs, onCreated) };
}

const sequence = (lifecycle: PodLifecycle<FakeContainer>, types?: string[]) =>
  lifecycle
    .events()
    .filter((e) => !types || types.includes(e.type))
    .map((e) => `${e.type}:${e.container}`);

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await sleep(5);
  }
}

describe("pod lifecycle: start", () => {
  it("calls onCreated once, with every container created and none started, before the pod is ready", async () => {
    const pod = fakePod(podSpec([spec("s1", "sidecar", { startup: startupProbe, readiness: readinessProbe() }), spec("m1", "main")]));
    const seen: Array<{ containers: number; running: number; events: number; ready: boolean }> = [];
    await pod.start(undefined, () => {
      seen.push({
        containers: pod.lifecycle.containers().length,
        running: pod.lifecycle.containers().filter((c) => c.running).length,
        events: pod.lifecycle.events().length,
        ready: pod.lifecycle.isReady(),
      });
    });
    expect(seen).toEqual([{ containers: 2, running: 0, events: 0, ready: false }]);
    expect(pod.lifecycle.isReady()).toBe(true);
    await pod.lifecycle.stop(async () => undefined);
  });

  it("fails the start when onCreated throws, before any container starts", async () => {
    const pod = fakePod(podSpec([spec("s1", "sidecar"), spec("m1", "main")]));
    await expect(
      pod.start(undefined, () => {
        throw new Error("caller refused the pod");
      }),
    ).rejects.toThrow("caller refused the pod");
    expect(pod.lifecycle.containers().every((c) => !c.running)).toBe(true);
  });

  it("starts sidecars one by one, each gated on its startup probe, then the mains", async () => {
    const pod = fakePod(podSpec([spec("s1", "sidecar", { startup: startupProbe }), spec("s2", "sidecar"), spec("m1", "main"), spec("m2", "main")]), (name, fake) => {
      if (name === "s1") fake.startupFailures = 3;
    });
    await pod.start();
    expect(sequence(pod.lifecycle)).toEqual([
      "starting:s1",
      "started:s1",
      "ready:s1",
      "starting:s2",
      "started:s2",
      "ready:s2",
      // A synchronous start is not awaited: each main without probes is ready before the next starts.
      "starting:m1",
      "started:m1",
      "ready:m1",
      "starting:m2",
      "started:m2",
      "ready:m2",
    ]);
    expect(pod.lifecycle.events().find((e) => e.type === "started" && e.container === "s1")?.detail).toBe("tcp: connected");
    expect(pod.lifecycle.isReady()).toBe(true);
    const s1 = pod.lifecycle.status()[0]!;
    expect(s1).toMatchObject({ name: "s1", state: "running", started: true, ready: true, restartCount: 0, pid: pod.fakes.get("s1")!.pid });
    expect(s1.timeToStartedMs).toBeGreaterThan(0);
    await pod.lifecycle.stop(async () => undefined);
  });

  it("starts the mains together where the runtime's start is asynchronous", async () => {
    const pod = fakePod(podSpec([spec("m1", "main"), spec("m2", "main")]), undefined, true);
    await pod.start();
    expect(sequence(pod.lifecycle).slice(0, 2)).toEqual(["starting:m1", "starting:m2"]);
    await pod.lifecycle.stop(async () => undefined);
  });

  it("fails with the last log lines when a sidecar exits before its startup probe passes, starting no main", async () => {
    const pod = fakePod(podSpec([spec("s", "sidecar", { startup: startupProbe }), spec("m", "main")]), (name, fake) => {
      if (name !== "s") return;
      fake.lines.push("boom");
      fake.startupFailures = 1_000;
      fake.exitsAfterStart = { code: 3, signal: null };
    });
    const error = await pod.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodStartError);
    const { message, container, lastLogLines } = error as PodStartError;
    expect(container).toBe("s");
    expect(lastLogLines).toEqual(["boom", "[note] process exited with code 3"]);
    expect(message.split("\n")[0]).toMatch(/^pod pod\d+: container "s" exited with code 3 before its startup probe passed$/);
    expect(message).toContain('last log lines of "s":\n  boom\n  [note] process exited with code 3');
    expect(pod.fakes.get("s")!.drained).toBe(1);
    expect(sequence(pod.lifecycle)).toEqual(["starting:s", "exited:s"]);
  });

  it("bounds the startup probe by the container's startup timeout", async () => {
    const pod = fakePod(podSpec([{ ...spec("s", "sidecar", { startup: startupProbe }), startupTimeoutMs: 30 }]), (_name, fake) => {
      fake.startupFailures = 1_000;
    });
    await expect(pod.start()).rejects.toThrow(/container "s" startup probe did not pass within 30 ms \(last: tcp: refused\)$/);
    await pod.lifecycle.stop(async () => undefined);
  });

  it("fails when a container is not ready in time, or exits before the pod is ready", async () => {
    const notReady = fakePod(podSpec([spec("m", "main", { readiness: readinessProbe() })]), (_name, fake) => {
      fake.readinessOk = false;
    });
    await expect(notReady.start(60)).rejects.toThrow(/container "m" not ready within 60 ms \(readiness probe failing\)$/);
    await notReady.lifecycle.stop(async () => undefined);

    const exits = fakePod(podSpec([spec("m", "main", { readiness: readinessProbe() })]), (_name, fake) => {
      fake.readinessOk = false;
      fake.exitsAfterStart = { code: null, signal: "SIGSEGV" };
    });
    await expect(exits.start(1_000)).rejects.toThrow(/container "m" exited on signal SIGSEGV before the pod became ready/);
    await exits.lifecycle.stop(async () => undefined);
  });
});

describe("pod lifecycle: readiness", () => {
  it("turns a ready container not ready only after failureThreshold failures in a row", async () => {
    const pod = fakePod(podSpec([spec("m", "main", { readiness: readinessProbe(3) })]));
    await pod.start();
    const fake = pod.fakes.get("m")!;
    fake.readinessOk = false;
    await until(() => !pod.lifecycle.isReady());
    const notReady = pod.lifecycle.events().find((e) => e.type === "not-ready")!;
    const lastReady = pod.lifecycle.events().find((e) => e.type === "ready")!;
    // Three probes 10 ms apart: the first failure comes within a period, so about 20 ms or more after it.
    expect(notReady.atMs - lastReady.atMs).toBeGreaterThanOrEqual(15);
    expect(notReady.detail).toBe("GET /ready → 503");
    fake.readinessOk = true;
    await until(() => pod.lifecycle.isReady());
    expect(sequence(pod.lifecycle, ["ready", "not-ready"])).toEqual(["ready:m", "not-ready:m", "ready:m"]);
    await pod.lifecycle.stop(async () => undefined);
  });
});

describe("pod lifecycle: restarts", () => {
  it("restarts an exited sidecar with a doubling back-off; a main stays down under restartPolicy Never", async () => {
    const pod = fakePod(podSpec([spec("s", "sidecar"), spec("m", "main")]));
    await pod.start();
    const sidecar = pod.fakes.get("s")!;
    sidecar.die({ code: 1, signal: null });
    await until(() => sidecar.running);
    sidecar.die({ code: 1, signal: null });
    await until(() => sidecar.running);
    pod.fakes.get("m")!.die({ code: 0, signal: null });
    await sleep(150);
    const restarts = pod.lifecycle.events().filter((e) => e.type === "restarting");
    expect(restarts.map((e) => `${e.container} ${e.detail}`)).toEqual(["s after 100 ms back-off", "s after 200 ms back-off"]);
    expect(sidecar.lines).toContain("[note] process exited with code 1");
    const [s, m] = pod.lifecycle.status();
    expect(s).toMatchObject({ state: "running", ready: true, restartCount: 2, exitCode: 1 });
    expect(m).toMatchObject({ state: "exited", ready: false, restartCount: 0, exitCode: 0 });
    await pod.lifecycle.stop(async () => undefined);
  });

  it("restarts a main under restartPolicy Always", async () => {
    const pod = fakePod(podSpec([spec("m", "main")], { restartPolicy: "Always" }));
    await pod.start();
    pod.fakes.get("m")!.die({ code: 0, signal: null });
    await until(() => pod.lifecycle.isReady());
    expect(pod.lifecycle.status()[0]).toMatchObject({ state: "running", restartCount: 1 });
    await pod.lifecycle.stop(async () => undefined);
  });

  it("restart() stops the container and starts it again, with no back-off restart of its own", async () => {
    const pod = fakePod(podSpec([spec("s", "sidecar"), spec("m", "main")]));
    await pod.start();
    const before = pod.lifecycle.events().length;
    await pod.lifecycle.restart("s");
    await sleep(150);
    expect(sequence(pod.lifecycle).slice(before)).toEqual(["sigterm:s", "exited:s", "stopped:s", "restarting:s", "starting:s", "started:s", "ready:s"]);
    expect(pod.lifecycle.events().find((e) => e.type === "restarting")?.detail).toBe("requested");
    expect(pod.lifecycle.status()[0]!.restartCount).toBe(1);
    await pod.lifecycle.stop(async () => undefined);
  });
});

describe("pod lifecycle: stop", () => {
  it("stops mains first, then sidecars in reverse start order, and kills at the end of one grace period", async () => {
    const pod = fakePod(podSpec([spec("first", "sidecar"), spec("second", "sidecar"), spec("m1", "main"), spec("m2", "main")]), (name, fake) => {
      fake.ignoresSigterm = name === "second";
    });
    await pod.start();
    let releasedAfter: string[] = [];
    const stopped = await pod.lifecycle.stop(async () => {
      releasedAfter = sequence(pod.lifecycle, ["stopped"]);
    });
    expect(sequence(pod.lifecycle, ["sigterm", "sigkill", "stopped"])).toEqual([
      "sigterm:m1",
      "sigterm:m2",
      "stopped:m1",
      "stopped:m2",
      "sigterm:second",
      "sigkill:second",
      "stopped:second",
      "sigterm:first",
      "stopped:first",
    ]);
    expect(releasedAfter).toHaveLength(4);
    expect(stopped.containers).toEqual([
      { name: "first", exitCode: null, signal: "SIGTERM", killed: false },
      { name: "second", exitCode: null, signal: "SIGKILL", killed: true },
      { name: "m1", exitCode: null, signal: "SIGTERM", killed: false },
      { name: "m2", exitCode: null, signal: "SIGTERM", killed: false },
    ]);
    expect(stopped.stopDurationMs).toBeGreaterThanOrEqual(190);
    // Nothing restarts during the stop, and stopping twice returns the first stop.
    await sleep(150);
    expect(sequence(pod.lifecycle, ["restarting"])).toEqual([]);
    expect(await pod.lifecycle.stop(async () => undefined)).toBe(stopped);
  });

  it("stops within a grace period of the caller's instead of the spec's (a teardown), the first stop's holding", async () => {
    const pod = fakePod(podSpec([spec("deaf", "sidecar"), spec("m", "main")], { terminationGracePeriodMs: 60_000 }), (name, fake) => {
      fake.ignoresSigterm = name === "deaf";
    });
    await pod.start();
    const stopped = await pod.lifecycle.stop(async () => undefined, 50);
    expect(stopped.containers.find((c) => c.name === "deaf")).toMatchObject({ signal: "SIGKILL", killed: true });
    expect(stopped.stopDurationMs).toBeGreaterThanOrEqual(45);
    expect(stopped.stopDurationMs).toBeLessThan(5_000);
    expect(await pod.lifecycle.stop(async () => undefined, 60_000)).toBe(stopped);
  });
});
