// `sidecar-bench doctor` through the real command line: the screen's structure, the JSON,
// the exit code, and what it says without a Docker engine or with a dead DOCKER_HOST.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { withoutDockerEngine } from "./fixtures/no-docker-engine.ts";
import { runToEnd } from "./fixtures/run-cli.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = join(root, "bin", "sidecar-bench.js");
const CHECK_LINE = /^ {2}(ok|warn|fail|info) +\S/;

const doctor = (args: string[] = [], env?: NodeJS.ProcessEnv) => runToEnd(process.execPath, [bin, "doctor", ...args], { cwd: root, env, timeoutMs: 30_000 });

describe("sidecar-bench doctor", () => {
  it("prints one section per runtime, one line per check, and exits 0 when the local runtime is usable", async () => {
    const result = await doctor();
    expect(result.stderr).toBe("");
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^sidecar-bench \d+\.\d+\.\d+ doctor: /);
    const headings = lines.filter((line) => /^\S/.test(line)).slice(1, -1);
    expect(headings.map((h) => h.split(/[ :]/)[0])).toEqual(["local", "docker", "kubernetes"]);
    expect(headings[0]).toMatch(/^local \(default\): usable/);
    // Usable or not depends on whether a cluster answers here; either way it is checked.
    expect(headings[2]).toMatch(/^kubernetes: (usable|NOT usable)/);
    const localLines = lines.slice(lines.indexOf(headings[0]!) + 1, lines.indexOf(headings[1]!) - 1).filter((l) => CHECK_LINE.test(l));
    const names = localLines.map((l) => l.slice(8).trim().split(/ {2,}/)[0]);
    expect(names).toEqual([
      "node",
      "python",
      "primary packages",
      "compare packages",
      "envoy",
      "caddy",
      "go sidecar",
      "closed loop",
      "otelcol",
      "consul-template",
      "rsyslog",
      "node exporter",
      "prometheus",
      "promtool",
      "accounting",
      "cpus",
    ]);
    // npm test's set-up has just built these: their stamps must read as current (the go
    // sidecar and Caddy once read "built from older sources" after every set-up).
    for (const name of ["caddy", "go sidecar", "closed loop"]) {
      expect(localLines.find((l) => l.slice(8).trim().startsWith(`${name} `)), name).toMatch(/^ {2}ok /);
    }
    // Every line under a heading is a check or the fix of the check above it.
    for (const line of lines.filter((l) => l.startsWith("  "))) expect(line).toMatch(/^ {2}((ok|warn|fail|info) +\S| +→ )/);
    expect(lines.at(-1)).toBe("exit 0: the default runtime (local) can run here");
    expect(result.code).toBe(0);
    expect(result.elapsedMs).toBeLessThan(15_000);
  }, 40_000);

  it("--json gives the same report for machines", async () => {
    const result = await doctor(["--json"]);
    const report = JSON.parse(result.stdout) as {
      exitCode: number;
      runtimes: Array<{ runtime: string; isDefault: boolean; available: boolean; usable: boolean; checks: Array<{ name: string; status: string; detail: string }> }>;
    };
    expect(report.runtimes.map((r) => [r.runtime, r.isDefault, r.available])).toEqual([
      ["local", true, true],
      ["docker", false, true],
      ["kubernetes", false, true],
    ]);
    for (const check of report.runtimes.flatMap((r) => r.checks)) expect(["ok", "warn", "fail", "info"]).toContain(check.status);
    expect(report.runtimes[0]!.usable).toBe(true);
    expect(report.exitCode).toBe(0);
    expect(result.code).toBe(0);
  }, 40_000);

  const noEngine = withoutDockerEngine([bin, "doctor"]);
  it.skipIf(typeof noEngine === "string")("without an engine: docker is not usable, with how to start one; the exit code follows local", async () => {
    const command = noEngine as Exclude<typeof noEngine, string>;
    const result = await runToEnd(command.file, command.args, { cwd: root, env: command.env, timeoutMs: 30_000 });
    expect(result.stdout).toMatch(/^docker: NOT usable$/m);
    expect(result.stdout).toMatch(/^ {2}fail {2}engine +the docker runtime needs a Docker engine, and none is reachable .*scripts\/start-docker\.sh/m);
    expect(result.stdout).toMatch(/^ {2}info {2}images +not checked \(no engine\)$/m);
    expect(result.code).toBe(0);
  }, 40_000);

  it("fails the engine check naming a dead DOCKER_HOST, even when the default socket has an engine", async () => {
    const result = await doctor([], { ...process.env, DOCKER_HOST: "unix:///tmp/sidecar-bench-no-engine.sock" });
    expect(result.stdout).toMatch(/^docker: NOT usable$/m);
    expect(result.stdout).toMatch(/^ {2}fail {2}engine +.*DOCKER_HOST=unix:\/\/\/tmp\/sidecar-bench-no-engine\.sock does not answer/m);
  }, 40_000);
});
