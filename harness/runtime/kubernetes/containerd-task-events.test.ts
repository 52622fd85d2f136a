// parseTaskEvent on `ctr events` lines recorded on the project's cluster (the same run as
// fixtures/pod-status-recording.json), and ContainerdTaskEvents reading them from a
// stand-in ctr process.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { ContainerdTaskEvents, parseTaskEvent } from "./containerd-task-events.ts";

const recording = JSON.parse(readFileSync(new URL("./fixtures/pod-status-recording.json", import.meta.url), "utf8")) as { ctrEvents: Array<{ line: string }> };
const lines = recording.ctrEvents.map((e) => e.line);

const SIDECAR = "4cbe3d253246ade50d4099f1db96538ec2fe0572e47851c5e713b79c12dc1f3f";
const MAIN = "e36cec29a7a9eb84e4a41c11f0ea4f68c044c540f2bf16250a43207a7e399e1f";
const NET_INIT = "eb6b8836527950107a17bf8378dc70a0793e567a4648863490ccd546af0e2ec1";
const SENTINEL = "5e171e1";
const SENTINEL_START = `2026-12-06 21:00:00.000001 +0000 UTC k8s.io /tasks/start {"container_id":"${SENTINEL}","pid":1}`;

function recorded(pattern: RegExp): string {
  const line = lines.find((l) => pattern.test(l));
  if (!line) throw new Error(`no line ${pattern} in the recording`);
  return line;
}

// The clocks at one instant: performance.now() 5000 ms when the wall clock read 20:58:40.000 UTC.
const NOW_MS = 5_000;
const EPOCH_NOW_MS = Date.UTC(2026, 11, 6, 20, 58, 40);
const parse = (line: string) => parseTaskEvent(line, () => NOW_MS, () => EPOCH_NOW_MS);
/** performance.now() of a wall-clock time given as seconds after 20:58:40 UTC. */
const perf = (secondsAfter: number) => NOW_MS + secondsAfter * 1000;

describe("parseTaskEvent", () => {
  it("a task's start, timed by the line's own timestamp to the microsecond", () => {
    const event = parse(recorded(new RegExp(`/tasks/start \\{"container_id":"${SIDECAR}"`)));
    expect(event).toEqual({ type: "start", containerId: SIDECAR, atMs: expect.any(Number) });
    // 20:58:38.081718265
    expect(event!.atMs).toBeCloseTo(perf(-1.918281735), 2);
  });

  it("a task's exit, timed by its exited_at (not the line's later timestamp), with its status", () => {
    const line = recorded(new RegExp(`/tasks/exit \\{"container_id":"${SIDECAR}","id":"${SIDECAR}"`));
    expect(line.startsWith("2026-12-06 20:58:42.65267254 ")).toBe(true);
    const event = parse(line);
    expect(event).toMatchObject({ type: "exit", containerId: SIDECAR, exitStatus: 137 });
    // exited_at 20:58:42.652599978
    expect(event!.atMs).toBeCloseTo(perf(2.652599978), 2);
  });

  it("an exit without exit_status exited 0 (protobuf's JSON leaves zeros out)", () => {
    const line = recorded(new RegExp(`/tasks/exit \\{"container_id":"${NET_INIT}"`));
    expect(line).not.toContain("exit_status");
    expect(parse(line)).toMatchObject({ type: "exit", containerId: NET_INIT, exitStatus: 0 });
  });

  it("the exit of a process exec'd in a container (an exec probe) is not the container's exit", () => {
    const probeExits = lines.filter((l) => l.includes(` /tasks/exit {"container_id":"${MAIN}","id":"`) && !l.includes(`"id":"${MAIN}"`));
    expect(probeExits.length).toBeGreaterThan(10);
    for (const line of probeExits) expect(parse(line)).toBeNull();
    expect(parse(recorded(new RegExp(`/tasks/exit \\{"container_id":"${MAIN}","id":"${MAIN}"`)))).toMatchObject({ type: "exit", containerId: MAIN, exitStatus: 3 });
  });

  it("ignores every other topic", () => {
    const others = lines.filter((l) => !/ \/tasks\/(start|exit) /.test(l));
    expect(new Set(others.map((l) => l.split(" ")[5]))).toEqual(new Set(["/tasks/create", "/tasks/delete", "/tasks/exec-added", "/tasks/exec-started", "/snapshot/prepare", "/snapshot/remove", "/containers/delete"]));
    for (const line of others) expect(parse(line)).toBeNull();
  });

  it("every start and container exit of the recording parses, in the order containerd sent them", () => {
    const events = lines.map(parse).filter((e) => e !== null);
    expect(events.filter((e) => e.type === "start")).toHaveLength(8);
    expect(events.filter((e) => e.type === "exit").map((e) => e.exitStatus)).toEqual([0, 137, 137, 3, 143, 137, 0, 137]);
  });

  it("keeps the microseconds Date.parse drops, and reads lines without a fraction", () => {
    const base = `{"container_id":"${SIDECAR}","pid":1}`;
    const a = parse(`2026-12-06 20:58:38.081718265 +0000 UTC k8s.io /tasks/start ${base}`)!;
    const b = parse(`2026-12-06 20:58:38.081719265 +0000 UTC k8s.io /tasks/start ${base}`)!;
    // A wall-clock time in ms is near 1.8e12, where a double keeps about 0.25 µs.
    expect(b.atMs - a.atMs).toBeCloseTo(0.001, 3);
    expect(b.atMs).toBeGreaterThan(a.atMs);
    expect(parse(`2026-12-06 20:58:38 +0000 UTC k8s.io /tasks/start ${base}`)!.atMs).toBe(perf(-2));
    // Trailing zeros trimmed, as Go prints them: .65 s is 650 ms.
    expect(parse(`2026-12-06 20:58:38.65 +0000 UTC k8s.io /tasks/start ${base}`)!.atMs).toBeCloseTo(perf(-1.35), 6);
    expect(parse(`2026-12-06 20:58:38.65 +0000 UTC k8s.io /tasks/start ${base}\r\n`)).not.toBeNull();
  });

  it("returns null for what is not a task event it can time", () => {
    const start = recorded(new RegExp(`/tasks/start \\{"container_id":"${SIDECAR}"`));
    expect(parse("")).toBeNull();
    expect(parse("ctr: failed to dial \"/run/sidecar-bench-cluster/containerd.sock\": context deadline exceeded")).toBeNull();
    expect(parse(start.slice(0, -10))).toBeNull();
    expect(parse(start.replace(/"container_id":"\w+",/, ""))).toBeNull();
    expect(parse(start.replace("+0000 UTC", "+0100 CET"))).toBeNull();
    expect(parse(start.replace(/\{.*\}/, "{not json}"))).toBeNull();
    expect(parse(`2026-12-06 20:58:42.6 +0000 UTC k8s.io /tasks/exit {"container_id":"${SIDECAR}","exited_at":"yesterday"}`)).toBeNull();
  });
});

describe("ContainerdTaskEvents", () => {
  const dirs: string[] = [];
  let events: ContainerdTaskEvents | null = null;
  afterEach(() => {
    events?.stop();
    events = null;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** A stand-in for ctr: records its arguments, prints `output` and a last start of container SENTINEL, then waits as `ctr events` does. */
  function fakeCtr(output: string[]): { ctr: string; argsFile: string } {
    const dir = mkdtempSync(join(tmpdir(), "ctr-events-"));
    dirs.push(dir);
    writeFileSync(join(dir, "events.txt"), `${[...output, SENTINEL_START].join("\n")}\n`);
    const argsFile = join(dir, "args");
    const ctr = join(dir, "ctr");
    writeFileSync(ctr, `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\ncat '${join(dir, "events.txt")}'\nexec sleep 30\n`);
    chmodSync(ctr, 0o755);
    return { ctr, argsFile };
  }

  /** Until the sentinel's start is in: every line before it is too. */
  async function allRead(): Promise<void> {
    for (let i = 0; i < 250 && events!.startOf(SENTINEL) === undefined; i++) await sleep(20);
    expect(events!.startOf(SENTINEL)).toBeDefined();
  }

  it("follows `ctr events` on the given socket and answers by container id, with or without the runtime's prefix", async () => {
    const { ctr, argsFile } = fakeCtr(lines);
    events = new ContainerdTaskEvents(ctr, "/run/test/containerd.sock");
    events.start();
    await allRead();
    expect(readFileSync(argsFile, "utf8").trim().split("\n")).toEqual(["--address", "/run/test/containerd.sock", "--namespace", "k8s.io", "events"]);
    const start = parseTaskEvent(recorded(new RegExp(`/tasks/start \\{"container_id":"${SIDECAR}"`)))!;
    // Times on this process's clock: the same wall-clock instant, converted now.
    expect(events.startOf(`containerd://${SIDECAR}`)).toBeCloseTo(start.atMs, -2);
    const mainExit = parseTaskEvent(recorded(new RegExp(`/tasks/exit \\{"container_id":"${MAIN}","id":"${MAIN}"`)))!;
    expect(events.exitOf(MAIN)).toBeCloseTo(mainExit.atMs, -2);
    expect(events.startOf(SIDECAR)).toBe(events.startOf(`containerd://${SIDECAR}`));
    expect(events.startOf("containerd://unknown")).toBeUndefined();
  });

  it("a container whose exec probes ran and exited has no exit until its own", async () => {
    const mainExit = lines.findIndex((l) => l.includes(`/tasks/exit {"container_id":"${MAIN}","id":"${MAIN}"`));
    const beforeItsExit = lines.slice(0, mainExit);
    expect(beforeItsExit.filter((l) => l.includes(`/tasks/exit {"container_id":"${MAIN}"`)).length).toBeGreaterThan(10);
    const { ctr } = fakeCtr(beforeItsExit);
    events = new ContainerdTaskEvents(ctr, "/run/test/containerd.sock");
    events.start();
    await allRead();
    expect(events.startOf(`containerd://${MAIN}`)).toBeDefined();
    expect(events.exitOf(`containerd://${MAIN}`)).toBeUndefined();
  });

  it("a ctr that cannot be started leaves the times unknown and throws nothing", async () => {
    events = new ContainerdTaskEvents("/nonexistent/ctr", "/run/test/containerd.sock");
    events.start();
    await sleep(50);
    expect(events.startOf(SIDECAR)).toBeUndefined();
  });
});
