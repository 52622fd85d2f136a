import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { build } from "esbuild";
import { PROJECT_ROOT, RUNNING_COMPILED, workerEntry } from "./project-root.ts";

describe("PROJECT_ROOT", () => {
  it("is the folder of sidecar-bench's package.json, wherever the process started", () => {
    expect((JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { name: string }).name).toBe("sidecar-bench");
    expect(existsSync(join(PROJECT_ROOT, "scenarios", "default.yaml"))).toBe(true);
    expect(RUNNING_COMPILED).toBe(false);
  });
});

describe("PROJECT_ROOT outside the project", () => {
  it("is the bundle's own folder, without throwing (the in-cluster generator's image has no package.json)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-root-"));
    try {
      const outfile = join(dir, "bundle.mjs");
      await build({ entryPoints: [join(PROJECT_ROOT, "harness", "project-root.ts")], bundle: true, platform: "node", format: "esm", outfile, logLevel: "error" });
      const bundled = (await import(pathToFileURL(outfile).href)) as { PROJECT_ROOT: string; RUNNING_COMPILED: boolean };
      expect(bundled.PROJECT_ROOT).toBe(dir);
      expect(bundled.RUNNING_COMPILED).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("workerEntry", () => {
  it("starts a TypeScript worker through tsx when running from the sources", async () => {
    // A throwaway .ts entry inside the project (tsx compiles it; a type annotation proves it is TypeScript).
    const dir = mkdtempSync(join(PROJECT_ROOT, ".cache-worker-probe-"));
    try {
      const name = "probe";
      writeFileSync(join(dir, `${name}.ts`), "import { parentPort, workerData } from 'node:worker_threads';\nconst doubled: number = (workerData as number) * 2;\nparentPort!.postMessage(doubled);\n");
      const entry = workerEntry(`${dir.slice(PROJECT_ROOT.length + 1)}/${name}`);
      const worker = new Worker(entry.url, { execArgv: entry.execArgv, workerData: 21 });
      const answer = await new Promise((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
        setTimeout(() => reject(new Error("the worker did not answer within 10 s")), 10_000).unref();
      });
      await worker.terminate();
      expect(answer).toBe(42);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
