// Runs a reference component's own test suite (pytest, go test) as one vitest test, so
// `npm test` checks the TypeScript, Python and Go sides with one command.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const venvPython = path.join(repoRoot, ".venv", "bin", "python");

interface SuiteRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

export interface NativeSuite {
  title: string;
  command: string;
  args: string[];
  cwd: string;
  env?: Record<string, string>;
  /** What to do when `command` is missing (absolute paths are checked before running). */
  missingHint: string;
  timeoutMs?: number;
}

function run(suite: NativeSuite, interruptAfterMs: number): Promise<SuiteRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(suite.command, suite.args, { cwd: suite.cwd, env: { ...process.env, ...suite.env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    // SIGINT, not SIGTERM: pytest turns it into KeyboardInterrupt and still runs fixture teardown (go test stops too).
    const timer = setTimeout(() => child.kill("SIGINT"), interruptAfterMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`${suite.command}: ${error.message}; ${suite.missingHint}`));
    });
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, output });
    });
  });
}

/** Declares one vitest test that passes when the suite exits 0; its output is the failure message. */
export function nativeSuiteTest(suite: NativeSuite): void {
  const timeoutMs = suite.timeoutMs ?? 120_000;
  it(
    suite.title,
    async () => {
      if (path.isAbsolute(suite.command) && !existsSync(suite.command)) throw new Error(`${suite.command} not found: ${suite.missingHint}`);
      // Interrupt the suite a little before vitest gives up, so it stops the servers it started.
      const result = await run(suite, timeoutMs - 10_000);
      if (result.exitCode !== 0) console.error(result.output);
      expect(result.signal, result.output).toBeNull();
      expect(result.exitCode, result.output).toBe(0);
    },
    timeoutMs,
  );
}

export function pytestSuite(title: string, testsDir: string): NativeSuite {
  return {
    title,
    command: venvPython,
    args: ["-m", "pytest", path.relative(repoRoot, testsDir), "-q"],
    cwd: repoRoot,
    env: { PYTHONDONTWRITEBYTECODE: "1" },
    missingHint: "create the Python environment first (npm run setup)",
  };
}
