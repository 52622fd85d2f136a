// Runs the reference primary's pytest suite (real server subprocesses, real tritonclient)
// as part of `vitest run`, so one command checks the TypeScript and Python sides.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../../..");
const python = path.join(repoRoot, ".venv", "bin", "python");
const testsDir = path.relative(repoRoot, path.join(here, "tests"));
const timeoutMs = 120_000;
// Interrupt pytest a little before vitest gives up, so its fixtures stop the servers they started.
const interruptAfterMs = timeoutMs - 10_000;

interface PytestRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

function runPytest(): Promise<PytestRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ["-m", "pytest", testsDir, "-q"], {
      cwd: repoRoot,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    // SIGINT, not SIGTERM: pytest turns it into KeyboardInterrupt and still runs fixture teardown.
    const timer = setTimeout(() => child.kill("SIGINT"), interruptAfterMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, output });
    });
  });
}

describe("reference primary fastapi-kserve", () => {
  it(
    "passes its pytest suite",
    async () => {
      if (!existsSync(python)) {
        throw new Error(`${python} not found: create the Python environment first (npm run setup)`);
      }
      const run = await runPytest();
      if (run.exitCode !== 0) {
        console.error(run.output);
      }
      expect(run.signal, run.output).toBeNull();
      expect(run.exitCode, run.output).toBe(0);
    },
    timeoutMs,
  );
});
