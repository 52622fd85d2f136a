// Misbehaving but conformant fixtures: reference/sidecars/misbehaving/log-flood.yaml (good-proxy beside
// floods of stderr lines and of one endless stdout line) and escaping-child.yaml beside it (good-proxy
// whose container leaves a setsid child). Certified on a few lifecycle checks, they reach
// the verdicts a well-behaved proxy reaches, and the runtime keeps what they do bounded:
// each container's log file within the cap, with the bytes dropped quoted in the evidence;
// the harness's memory bounded; no process of theirs left once the checks' pods stopped.
// On the local runtime (the escaping child in its /proc mode, the flood with cgroups where
// writable) and on docker; every mode, and a flood of one endless line alone, are in
// harness/runtime/misbehaving-containers.test.ts.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PRIMARY_MANIFEST } from "../harness/conformance/entry-options.ts";
import { runConformance } from "../harness/conformance/run-conformance.ts";
import type { VerdictRecord } from "../harness/conformance/verdict-record.ts";
import { DockerRuntime } from "../harness/runtime/docker/docker-runtime.ts";
import { dockerTestEngine, ensureProjectImage } from "../harness/runtime/docker/docker-test-engine.ts";
import { LocalRuntime } from "../harness/runtime/local/local-runtime.ts";
import { DEFAULT_CONTAINER_LOG_MAX_BYTES } from "../harness/runtime/logs/log-limits.ts";
import type { PodRuntime } from "../harness/runtime/pod-runtime.ts";
import { loadManifest } from "../harness/scenario/index.ts";
import { testById } from "./registry.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const primary = await loadManifest(join(root, PRIMARY_MANIFEST), "Primary");
const engine = await dockerTestEngine();
const MIB = 1024 * 1024;

type RuntimeName = "local" | "docker";

/** Every file under dir, with its size. */
function files(dir: string): Array<{ path: string; bytes: number }> {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .map((path) => ({ path, bytes: statSync(path).size }));
}

/** Live processes whose environment names the run, wherever they went. */
function runProcesses(runId: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      if (!readFileSync(`/proc/${pid}/environ`, "latin1").includes(`SIDECAR_BENCH_RUN_ID=${runId}\0`)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ").trim()}`);
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

function suite(name: RuntimeName): void {
  /** Report folders of the certifications: each flooding container leaves a 10 MiB log. */
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const workDir = () => {
    const dir = mkdtempSync(join(tmpdir(), `sb-misbehaving-${name}-`));
    dirs.push(dir);
    return dir;
  };
  /** cgroups "off": the local runtime's /proc mode, where nothing but the run's labels ties an escaped child to its container. */
  const runtimeFor = (dir: string, cgroups: "auto" | "off"): PodRuntime =>
    name === "docker" ? new DockerRuntime({ workDir: dir }) : new LocalRuntime({ workDir: dir, extraPath: [join(root, ".venv", "bin")], cgroups });

  if (name === "docker") beforeAll(() => ["node-sidecars", "primary-fastapi"].forEach((image) => ensureProjectImage(image as "node-sidecars")), 600_000);

  async function certify(
    fixture: string,
    testIds: string[],
    cgroups: "auto" | "off" = "auto",
  ): Promise<{ records: VerdictRecord[]; dir: string; runId: string; peakRssGrowthMiB: number }> {
    const dir = workDir();
    const runtime = runtimeFor(dir, cgroups);
    const runId = `misbehaving-${name}-${process.pid}-${Date.now()}`;
    const sidecar = await loadManifest(join(root, fixture), "Sidecar");
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      const { records, interrupted } = await runConformance({ tests: testIds.map(testById), target: { sidecar, primary, runtime, runId } });
      expect(interrupted).toBe(false);
      return { records, dir, runId, peakRssGrowthMiB: (peak - before) / MIB };
    } finally {
      clearInterval(sampler);
      await runtime.stopAll();
    }
  }

  it("a sidecar whose container leaves a setsid child passes, and no process of the run is left", async () => {
    const { records, runId } = await certify("reference/sidecars/misbehaving/escaping-child.yaml", ["lifecycle.sidecar-crash-restarts-alone"], "off");
    expect(records.map((r) => `${r.id} ${r.verdict}: ${r.message}`)).toEqual([expect.stringMatching(/^lifecycle.sidecar-crash-restarts-alone passed: /)]);
    expect(runProcesses(runId)).toEqual([]);
  }, 120_000);

  it("a sidecar that floods its logs passes; its logs stay within the cap, the drop is quoted, the harness stays bounded", async () => {
    const { records, dir, runId, peakRssGrowthMiB } = await certify("reference/sidecars/misbehaving/log-flood.yaml", [
      "lifecycle.time-to-ready",
      "lifecycle.sidecar-crash-restarts-alone",
    ]);
    expect(records.map((r) => `${r.id} ${r.verdict}`)).toEqual(["lifecycle.time-to-ready passed", "lifecycle.sidecar-crash-restarts-alone passed"]);
    const logs = files(dir).filter((f) => f.path.endsWith(".log"));
    const floods = logs.filter((f) => f.path.endsWith("/log-flood.log"));
    expect(floods).toHaveLength(2);
    for (const log of logs) expect(log.bytes, log.path).toBeLessThanOrEqual(DEFAULT_CONTAINER_LOG_MAX_BYTES);
    // A file at the cap was capped and says so; how much a short-lived pod floods before its
    // stop depends on the machine's load, but the longest (a crash and a restart) always fills it.
    const capped = floods.filter((f) => f.bytes === DEFAULT_CONTAINER_LOG_MAX_BYTES);
    expect(capped.length, floods.map((f) => `${f.path}: ${f.bytes} bytes`).join(", ")).toBeGreaterThan(0);
    for (const flood of capped) expect(readFileSync(flood.path, "latin1")).toMatch(/\n\[sidecar-bench\] log capped at 10 MiB: \d+ bytes \([\d.]+ [MG]iB\) dropped here/);
    // Where a verdict quotes the sidecar's log, it says the log is not whole.
    const quoted = records.map((r) => (r.evidence?.["sidecarLog"] as string[] | undefined)?.[0] ?? "");
    expect(quoted.some((line) => /^\[sidecar-bench\] log capped: the container wrote .* dropped; its log file keeps the first and the last/.test(line)), quoted.join("\n")).toBe(true);
    expect(peakRssGrowthMiB).toBeLessThan(96);
    expect(runProcesses(runId)).toEqual([]);
  }, 120_000);
}

describe("misbehaving fixtures on the local runtime", () => suite("local"));
(engine.skipReason ? describe.skip : describe)(`misbehaving fixtures on the docker runtime${engine.skipReason ? ` (skipped: ${engine.skipReason})` : ""}`, () =>
  suite("docker"),
);
