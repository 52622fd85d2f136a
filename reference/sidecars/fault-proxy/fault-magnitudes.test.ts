// The magnitude options the boundary fixtures set (suites/support/boundary-fixtures.ts):
// each fault, given one, shows that magnitude in a real pod — memory held, CPU per
// request, memory kept per request, exit delay after SIGTERM, lag per streamed chunk —
// and a value that is not a number > 0 is refused.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContext } from "../../../harness/conformance/conformance-context.ts";
import type { PodOptions } from "../../../harness/conformance/conformance-test.ts";
import { LocalRuntime } from "../../../harness/runtime/local/local-runtime.ts";
import type { StartedPod } from "../../../harness/runtime/pod-runtime.ts";
import { loadManifest, type LoadedManifest, type PrimaryManifest } from "../../../harness/scenario/index.ts";
import { withFaultArgs } from "../../../suites/support/boundary-fixtures.ts";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../../..");
const MIB = 1024 * 1024;
const runtime = new LocalRuntime({ workDir: mkdtempSync(join(tmpdir(), "sb-fault-magnitudes-")), extraPath: [join(repo, ".venv/bin")] });
const stateDir = mkdtempSync(join(tmpdir(), "sb-fault-magnitudes-state-"));
let primary: LoadedManifest<PrimaryManifest>;

beforeAll(async () => {
  process.env.FAULT_STATE_DIR = stateDir;
  primary = await loadManifest(join(repo, "reference/primaries/fastapi-kserve/primary.yaml"), "Primary");
});

afterAll(async () => {
  await runtime.stopAll();
  delete process.env.FAULT_STATE_DIR;
  rmSync(stateDir, { recursive: true, force: true });
});

/** A pod of `fault`'s fixture with `args` appended; always stopped. */
async function withFault<T>(fault: string, args: string[], fn: (pod: StartedPod, entry: string) => Promise<T>, options: PodOptions = {}): Promise<T> {
  const sidecar = withFaultArgs(await loadManifest(join(repo, "reference/sidecars", `${fault}.yaml`), "Sidecar"), args);
  const scoped = createContext({ sidecar, primary, runtime, runId: `fault-magnitudes-${process.pid}` });
  try {
    const pod = await scoped.context.startPod(options);
    return await fn(pod, scoped.context.entryUrl(pod));
  } finally {
    await scoped.close();
  }
}

async function get(base: string, path: string): Promise<number> {
  const response = await request(`${base}${path}`, { signal: AbortSignal.timeout(5_000) });
  await response.body.arrayBuffer();
  return response.statusCode;
}

describe("fault magnitudes", () => {
  it("fat-idle --memory-mib 100: the container holds about 100 MiB", async () => {
    await withFault("fat-idle", ["--memory-mib", "100"], async (pod) => {
      const stats = await pod.stats("fat-idle");
      // cgroup accounting charges RssAnon (what the fault tops up); /proc RSS adds the shared node binary.
      expect(stats.memoryBytes / MIB).toBeGreaterThan(95);
      expect(stats.memoryBytes / MIB).toBeLessThan(stats.source === "proc" ? 160 : 115);
    });
  });

  it("cpu-burner --cpu-ms-per-request 2: about 2 ms of CPU per request, whatever proxying costs below it", async () => {
    await withFault("cpu-burner", ["--cpu-ms-per-request", "2"], async (pod, entry) => {
      await get(entry, "/v2/health/ready");
      const before = (await pod.stats("cpu-burner")).cpuUsageUs;
      for (let i = 0; i < 100; i++) await get(entry, "/v2/health/ready");
      await new Promise((done) => setTimeout(done, 50));
      const perRequestMs = ((await pod.stats("cpu-burner")).cpuUsageUs - before) / 1000 / 100;
      expect(perRequestMs).toBeGreaterThan(1.7);
      expect(perRequestMs).toBeLessThan(2.6);
    });
  });

  it("leaky --leak-kib 256: memory grows about 256 KiB per request", async () => {
    await withFault("leaky", ["--leak-kib", "256"], async (pod, entry) => {
      const before = (await pod.stats("leaky")).memoryBytes;
      for (let i = 0; i < 200; i++) await get(entry, "/v2/health/ready");
      const grownMiB = ((await pod.stats("leaky")).memoryBytes - before) / MIB;
      // 200 × 256 KiB = 50 MiB, kept in whole MiB buffers.
      expect(grownMiB).toBeGreaterThan(45);
      expect(grownMiB).toBeLessThan(60);
    });
  });

  it("ignore-sigterm --delay-ms 1000: exits about 1 s after SIGTERM, before the grace period ends", async () => {
    await withFault(
      "ignore-sigterm",
      ["--delay-ms", "1000"],
      async (pod) => {
        const stopped = await pod.stop();
        const sidecar = stopped.containers.find((c) => c.name === "ignore-sigterm")!;
        expect(sidecar).toMatchObject({ killed: false, exitCode: 0 });
        const at = (type: string) => stopped.events.find((e) => e.container === "ignore-sigterm" && e.type === type)!.atMs;
        expect(at("stopped") - at("sigterm")).toBeGreaterThan(900);
        expect(at("stopped") - at("sigterm")).toBeLessThan(2_000);
      },
      { terminationGracePeriodMs: 4_000 },
    );
  });

  it("buffer-stream --delay-ms 300: streams, every event about 300 ms behind", async () => {
    await withFault("buffer-stream", ["--delay-ms", "300"], async (pod, entry) => {
      const arrivals = async (base: string) => {
        const began = performance.now();
        const response = await request(`${base}/v2/models/mlp/generate_stream`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text_input: "lag", parameters: { max_tokens: 5, token_interval_ms: 100 } }),
          signal: AbortSignal.timeout(10_000),
        });
        const atMs: number[] = [];
        for await (const chunk of response.body) if ((chunk as Buffer).includes("\n\n")) atMs.push(performance.now() - began);
        return atMs;
      };
      const direct = await arrivals(pod.url("primary", "http"));
      const via = await arrivals(entry);
      expect(via.length).toBeGreaterThanOrEqual(5);
      // Spread like the direct stream (not sent whole at the end), each event ~300 ms later.
      expect(via.at(-1)! - via[0]!).toBeGreaterThan(0.7 * (direct.at(-1)! - direct[0]!));
      expect(via[0]! - direct[0]!).toBeGreaterThan(250);
      expect(via[0]! - direct[0]!).toBeLessThan(450);
    });
  });

  it("refuses a magnitude that is not a number > 0", async () => {
    const script = join(here, "fault-proxy.mjs");
    for (const [option, value] of [["--memory-mib", "lots"], ["--leak-kib", "0"], ["--cpu-ms-per-request", "NaN"]]) {
      const child = spawn(process.execPath, [script, "--listen", "1", "--admin", "2", "--upstream", "3", option!, value!], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      expect(await new Promise((done) => child.once("exit", done))).toBe(2);
      expect(stderr).toContain(`${option}: expected a number > 0, got "${value}"`);
    }
  });
});
