// certify runs the conformance entry through vitest's Node API, so a certification and
// a CI job running `npx vitest --config vitest.conformance.config.ts` are the same run:
// the same entry, hooks and timeouts, and vitest's own JUnit reporter for junit.xml.
import type { TestRunEndReason } from "vitest/node";
import { ConformanceProgressReporter } from "./progress-reporter.ts";

export const CONFORMANCE_CONFIG = "vitest.conformance.config.ts";

export interface VitestRunInput {
  projectRoot: string;
  /** Absolute path of the vitest config (vitest.conformance.config.ts). */
  configFile: string;
  /** The entry's options (entryEnvironment), set in the worker's environment. */
  env: Record<string, string>;
  junitFile: string;
  onLine(line: string): void;
  /** Aborting cancels the run: the running check is aborted and its pods stopped. */
  signal?: AbortSignal;
}

export interface VitestRunOutcome {
  /** Why tests could not run or reach a verdict (load errors, unhandled errors); empty when all did. */
  problems: string[];
  reason: TestRunEndReason | null;
}

/** vitest sets these in the calling process; the pods certify starts afterwards should not inherit them. */
const VITEST_SETS = ["TEST", "VITEST", "NODE_ENV"] as const;
const SIGNALS = ["SIGINT", "SIGTERM"] as const;

export async function runConformanceWithVitest(input: VitestRunInput): Promise<VitestRunOutcome> {
  // Loaded on demand: vitest's Node API pulls in Vite, which only certify needs.
  const { startVitest } = await import("vitest/node");
  const saved = Object.fromEntries(VITEST_SETS.map((name) => [name, process.env[name]]));
  const exitCode = process.exitCode;
  const ownSignalListeners = new Map(SIGNALS.map((signal) => [signal, process.listeners(signal)]));
  const reporter = new ConformanceProgressReporter(input.onLine, () => {
    // vitest's logger (made for its CLI) exits the process 1 ms after SIGINT or SIGTERM;
    // certify must first stop the running check's pods and write the report, so it
    // keeps those signals to itself and cancels the run through the vitest handle.
    for (const signal of SIGNALS) {
      for (const listener of process.listeners(signal)) {
        if (!ownSignalListeners.get(signal)!.includes(listener)) process.off(signal, listener);
      }
    }
  });
  const onAbort = () => void reporter.vitest?.cancelCurrentRun("keyboard-input");
  input.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await startVitest(
      "test",
      [],
      {
        root: input.projectRoot,
        config: input.configFile,
        run: true,
        watch: false,
        env: input.env,
        reporters: [
          reporter,
          ["junit", { outputFile: input.junitFile, suiteName: "sidecar-bench conformance", classnameTemplate: "conformance", includeConsoleOutput: true }],
        ],
      },
      {},
      // stdout carries certify's results; vitest's own lines (the JUnit path, load errors) are diagnostics.
      { stdout: process.stderr },
    );
  } finally {
    input.signal?.removeEventListener("abort", onAbort);
    for (const name of VITEST_SETS) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    // Failed tests set vitest's exit code; certify decides its own from the verdicts.
    process.exitCode = exitCode;
  }
  return { problems: reporter.problems, reason: reporter.reason };
}
