import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { pathToFileURL } from "node:url";
import { fork } from "node:child_process";
import { build } from "esbuild";
import { childEntry, PROJECT_ROOT, RUNNING_COMPILED } from "./project-root.ts";

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

describe("childEntry", () => {
  it("starts a TypeScript child process through tsx when running from the sources", async () => {
    // A throwaway .ts entry inside the project (tsx compiles it; a type annotation proves it is TypeScript).
    const dir = mkdtempSync(join(PROJECT_ROOT, ".cache-child-probe-"));
    try {
      const name = "probe";
      writeFileSync(join(dir, `${name}.ts`), "process.on('message', (n) => { const doubled: number = (n as number) * 2; process.send!(doubled, () => process.disconnect()); });\n");
      const entry = childEntry(`${dir.slice(PROJECT_ROOT.length + 1)}/${name}`);
      // From another working directory: tsx is found from the project, not from the cwd.
      const child = fork(entry.modulePath, [], { execArgv: entry.execArgv, cwd: tmpdir(), stdio: ["ignore", "inherit", "inherit", "ipc"] });
      child.send(21);
      const answer = await new Promise((resolve, reject) => {
        child.once("message", resolve);
        child.once("error", reject);
        child.once("exit", (code) => reject(new Error(`the child exited (code ${code}) without answering`)));
        setTimeout(() => reject(new Error("the child did not answer within 20 s")), 20_000).unref();
      });
      child.kill();
      expect(answer).toBe(42);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
