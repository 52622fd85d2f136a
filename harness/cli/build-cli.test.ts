// The bin runs dist/ only while no bundled source is newer than the build: an edited, deleted
// or unreadable input sends it back to the sources (never stale code).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BUILD_INFO_FILE, CLI_ENTRY_POINTS, DIST_DIR, freshCliBundle } from "../../scripts/build-cli.mjs";
import { PROJECT_ROOT } from "../project-root.ts";
import { runToEnd } from "./fixtures/run-cli.ts";

const root = mkdtempSync(join(tmpdir(), "sb-build-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("freshCliBundle", () => {
  it("is the bundle's main until an input is newer than the build's start or gone", () => {
    const startedAtMs = Date.now();
    const older = (startedAtMs - 60_000) / 1000;
    mkdirSync(join(root, "src"));
    mkdirSync(join(root, DIST_DIR));
    for (const name of ["a.ts", "b.ts"]) {
      writeFileSync(join(root, "src", name), "export {};\n");
      utimesSync(join(root, "src", name), older, older);
    }
    expect(freshCliBundle(root)).toBeNull();
    writeFileSync(join(root, DIST_DIR, BUILD_INFO_FILE), JSON.stringify({ startedAtMs, main: `${DIST_DIR}/main.js`, inputs: ["src/a.ts", "src/b.ts"] }));
    expect(freshCliBundle(root)).toBe(join(root, DIST_DIR, "main.js"));
    const newer = (startedAtMs + 1_000) / 1000;
    utimesSync(join(root, "src", "b.ts"), newer, newer);
    expect(freshCliBundle(root)).toBeNull();
    utimesSync(join(root, "src", "b.ts"), older, older);
    rmSync(join(root, "src", "a.ts"));
    expect(freshCliBundle(root)).toBeNull();
  });

  it("lists the command line's entry first (the bin's main)", () => {
    expect(CLI_ENTRY_POINTS[0]).toBe("harness/cli/main.ts");
  });

  it("lists every child process's entry (a module reading process.on(\"message\")), which childEntry() starts from dist/", () => {
    const workers = (readdirSync(join(PROJECT_ROOT, "harness"), { recursive: true, encoding: "utf8" }) as string[])
      .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts") && !file.includes("fixtures"))
      .map((file) => `harness/${file}`)
      .filter((file) => /process\.on\("message"/.test(readFileSync(join(PROJECT_ROOT, file), "utf8")));
    expect(workers).toContain("harness/load/open-loop-process.ts");
    for (const worker of workers) expect(CLI_ENTRY_POINTS).toContain(worker);
  });
});

describe("bin/sidecar-bench.js", () => {
  it("answers --version from dist/ or, when dist/ is stale, from the sources", async () => {
    const version = (await import("../project-root.ts")).packageVersion();
    const fromSources = await runToEnd(process.execPath, [join(PROJECT_ROOT, "bin", "sidecar-bench.js"), "--version"], { cwd: root, env: { ...process.env, SIDECAR_BENCH_FROM_SOURCES: "1" }, timeoutMs: 30_000 });
    expect(fromSources.code).toBe(0);
    expect(fromSources.stdout.trim()).toBe(version);
  }, 40_000);
});
