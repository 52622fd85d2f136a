// Before `npm run setup`, the commands say what is missing and what to run, from any folder,
// instead of failing inside a pod ("No module named uvicorn"). SIDECAR_BENCH_VENV points the
// Python environment at an empty folder: the machine as a fresh clone sees it.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../project-root.ts";
import type { ContainerSpec } from "../runtime/pod-runtime.ts";
import { runToEnd } from "./fixtures/run-cli.ts";
import { NATIVE_CLOSED_LOOP_PATH } from "../load/closed-loop.ts";
import { assertClosedLoopEngine, localSetupProblems, SetupMissingError } from "./setup-preflight.ts";

const bin = join(PROJECT_ROOT, "bin", "sidecar-bench.js");
const scratch = mkdtempSync(join(tmpdir(), "sb-preflight-"));
const emptyVenv = join(scratch, "venv");
const elsewhere = join(scratch, "cwd");
mkdirSync(emptyVenv);
mkdirSync(elsewhere);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const cases: Array<[string, string[], RegExp[], RegExp[]]> = [
  ["run (the default scenario, from another folder)", ["run"], [/^sidecar-bench: run .*scenarios\/default\.yaml: this machine is not set up/m, /venv\/bin\/python: the Python environment .* is not installed \(container "primary"/, /venv\/bin\/envoy: Envoy .* \(container "envoy"/], []],
  ["compare (its default scenario)", ["compare", "--no-episodes"], [/^sidecar-bench: compare .*scenarios\/compare\.yaml/m, /bin\/python: /], []],
  ["certify (sidecar, primary and role backend)", ["certify", join(PROJECT_ROOT, "scenarios/sidecars/otelcol.yaml"), "--primary", "triton", "--no-performance"], [/bin\/otelcol-sidecar-bench: /, /bin\/tritonserver: /, /bin\/python: .*container "backend"/], []],
];

describe("before the set-up", () => {
  it.each(cases)("sidecar-bench %s exits 1 naming what is missing and `npm run setup`, starting nothing", async (_name, args, says, doesNotSay) => {
    const result = await runToEnd(process.execPath, [bin, ...args], { cwd: elsewhere, env: { ...process.env, SIDECAR_BENCH_VENV: emptyVenv }, timeoutMs: 30_000 });
    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(1);
    for (const pattern of says) expect(result.stderr).toMatch(pattern);
    for (const pattern of doesNotSay) expect(result.stderr).not.toMatch(pattern);
    expect(result.stderr).toContain(`Run: npm run setup (in ${PROJECT_ROOT})`);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(join(elsewhere, "reports"))).toBe(false);
  }, 40_000);
});

describe("before npm ci", () => {
  it("the bin says to install the npm dependencies, without a stack trace", async () => {
    // A copy of the bin and what it imports before any package, in a folder without node_modules.
    const copy = join(scratch, "fresh-clone");
    for (const file of ["bin/sidecar-bench.js", "scripts/build-cli.mjs"]) {
      mkdirSync(join(copy, file, ".."), { recursive: true });
      copyFileSync(join(PROJECT_ROOT, file), join(copy, file));
    }
    const result = await runToEnd(process.execPath, [join(copy, "bin", "sidecar-bench.js"), "run"], { cwd: elsewhere, timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`sidecar-bench: its npm dependencies are not installed; run: npm ci && npm run setup (in ${copy})\n`);
  });
});

describe("localSetupProblems", () => {
  const container = (command: string, baseDir: string): ContainerSpec => ({ name: "c", kind: "main", command: [command], baseDir, ports: {}, probes: {}, startupTimeoutMs: 1_000 });

  it("calls a .venv whose pip install did not finish (no stamp) incomplete", () => {
    const venv = join(scratch, "partial-venv");
    mkdirSync(join(venv, "bin"), { recursive: true });
    writeFileSync(join(venv, "bin", "python"), "#!/bin/sh\n");
    chmodSync(join(venv, "bin", "python"), 0o755);
    process.env["SIDECAR_BENCH_VENV"] = venv;
    try {
      expect(localSetupProblems([container("python", scratch)], PROJECT_ROOT).map((p) => p.what)).toEqual([`${venv}: the Python environment is incomplete (its set-up did not finish)`]);
      writeFileSync(join(venv, ".requirements.sha256"), "0\n");
      expect(localSetupProblems([container("python", scratch)], PROJECT_ROOT)).toEqual([]);
    } finally {
      delete process.env["SIDECAR_BENCH_VENV"];
    }
  });

  it("names the Go sidecar setup builds inside the project when it is not built", () => {
    const fakeRoot = join(scratch, "project");
    const dir = join(fakeRoot, "reference", "integrations", "sidecar-go");
    mkdirSync(dir, { recursive: true });
    expect(localSetupProblems([container("./bin/aux-proxy", dir)], fakeRoot).map((p) => p.what)).toEqual(["reference/integrations/sidecar-go/bin/aux-proxy: the Go request-guard sidecar (compare) is not built"]);
    expect(localSetupProblems([container("node", dir)], fakeRoot)).toEqual([]);
  });
});

describe("assertClosedLoopEngine", () => {
  it("refuses a closed-loop workload when the engine is not built, naming the scenario, the field and the command", () => {
    const missing = join(scratch, "no-engine");
    expect(() => assertClosedLoopEngine("closed", "/x/scenario.yaml", missing, PROJECT_ROOT)).toThrow(SetupMissingError);
    expect(() => assertClosedLoopEngine("closed", "/x/scenario.yaml", missing, PROJECT_ROOT)).toThrow(/scenario\.yaml: spec\.workload\.load\.mode closed[\s\S]*Run: npm run setup/);
    // Open loop needs no engine; a built engine passes.
    expect(() => assertClosedLoopEngine("open", "/x/scenario.yaml", missing, PROJECT_ROOT)).not.toThrow();
    expect(existsSync(NATIVE_CLOSED_LOOP_PATH)).toBe(true);
    expect(() => assertClosedLoopEngine("closed", "/x/scenario.yaml", NATIVE_CLOSED_LOOP_PATH, PROJECT_ROOT)).not.toThrow();
  });
});
