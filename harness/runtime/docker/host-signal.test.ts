import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isContainerProcess, signalOnHost } from "./host-signal.ts";

const ID = "666d2dc87b75c062bb80059824b10651a5f2a7269d394fa370337e93d7dfcae1";

/** A fake /proc holding each pid's cgroup file. */
function proc(cgroups: Record<number, string>): string {
  const root = mkdtempSync(join(tmpdir(), "sb-proc-"));
  for (const [pid, path] of Object.entries(cgroups)) {
    mkdirSync(join(root, pid), { recursive: true });
    writeFileSync(join(root, pid, "cgroup"), `12:memory:${path}\n9:name=systemd:${path}\n`);
  }
  return root;
}

describe("signalling a container's process on this host", () => {
  it("recognises the container's process by its id in the cgroup paths (cgroupfs and systemd drivers)", () => {
    const root = proc({ 100: `/docker/${ID}`, 200: `/system.slice/docker-${ID}.scope`, 300: "/user.slice/session-1.scope" });
    expect(isContainerProcess(ID, 100, root)).toBe(true);
    expect(isContainerProcess(ID, 200, root)).toBe(true);
    expect(isContainerProcess(ID, 300, root)).toBe(false);
    expect(isContainerProcess(ID, 4242, root)).toBe(false);
    expect(isContainerProcess("", 100, root)).toBe(false);
  });

  it("signals only a process shown to be the container's, and has delivered it on return", async () => {
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    const exited = new Promise<string | null>((done) => child.once("exit", (_code, signal) => done(signal)));
    expect(signalOnHost(ID, child.pid, "SIGKILL", proc({ [child.pid!]: "/user.slice" }))).toBe(false);
    expect(signalOnHost(ID, undefined, "SIGKILL", proc({}))).toBe(false);
    expect(signalOnHost(ID, child.pid, "SIGKILL", proc({ [child.pid!]: `/docker/${ID}` }))).toBe(true);
    expect(await exited).toBe("SIGKILL");
  });
});
