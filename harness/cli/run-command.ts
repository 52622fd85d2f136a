// `sidecar-bench run` and `calibrate`: load and validate the scenario (nothing starts
// on invalid input), start the runtime, run the experiment with progress, keep the
// report folder current, and stop everything on Ctrl-C.
import { randomBytes } from "node:crypto";
import { join, relative, resolve } from "node:path";
import { AA_ARM, runExperiment } from "../experiment/run-experiment.ts";
import { summaryMarkdown } from "../report/markdown-writer.ts";
import type { Results } from "../report/results-model.ts";
import { writeReports } from "../report/write-reports.ts";
import { writeFileAtomic } from "../report/atomic-write.ts";
import { judgeThresholds, thresholdsExitCode, thresholdsSummary } from "../experiment/thresholds.ts";
import { thresholdsJunit } from "../experiment/thresholds-junit.ts";
import { createRuntime, unavailableRuntimeMessage, type KubernetesRequest } from "../runtime/create-runtime.ts";
import { loadScenario } from "../scenario/index.ts";
import { resolvePrimaryChoice } from "../scenario/named-primaries.ts";
import { createProgress } from "./progress.ts";
import { onInterrupt } from "./interrupts.ts";
import { UsageError } from "./usage-error.ts";
import { printNextSteps } from "./next-steps.ts";
import { shownPath } from "./shown-path.ts";
import { assertClosedLoopEngine, assertLocalSetup, podPrograms } from "./setup-preflight.ts";
import { NATIVE_CLOSED_LOOP_PATH } from "../load/closed-loop.ts";

export interface RunCommandInput {
  /** --kubeconfig, --context, --namespace, --pod-access (runtime kubernetes). */
  kubernetes?: KubernetesRequest;
  scenarioFile: string;
  /** --primary: a reference primary's name or a Primary manifest, instead of spec.primary. */
  primary?: string;
  trials?: number;
  seed?: number;
  out?: string;
  runtime?: string;
  projectRoot: string;
  version: string;
  calibrationOnly: boolean;
  /** --strict: an inconclusive threshold (its CI straddles the limit) fails the run too. */
  strict?: boolean;
}

/** The manifest a --primary value names; a usage error (exit 2) when it names none. */
export function chosenPrimaryFile(value: string, projectRoot: string): string {
  const choice = resolvePrimaryChoice(value, projectRoot);
  if ("problem" in choice) throw new UsageError(`--primary: ${choice.problem}`);
  return choice.file;
}

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

export async function runCommand(input: RunCommandInput): Promise<number> {
  const scenario = await loadScenario(resolve(input.scenarioFile), input.primary === undefined ? {} : { primaryFile: chosenPrimaryFile(input.primary, input.projectRoot) });
  const runtimeName = input.runtime ?? scenario.manifest.spec.runtime;
  const unavailable = unavailableRuntimeMessage(runtimeName);
  if (unavailable) {
    throw new UsageError(`${relative(process.cwd(), scenario.file)}: ${input.runtime ? "--runtime" : "spec.runtime"}: ${unavailable}`);
  }
  if (input.trials !== undefined && input.trials < 2) throw new UsageError("--trials: expected at least 2 paired rounds (one cannot show variance)");
  const arms = input.calibrationOnly ? [scenario.baseline] : [scenario.baseline, ...scenario.variants];
  assertLocalSetup(runtimeName, arms.flatMap((arm) => podPrograms(arm.primary, arm.sidecars)), input.projectRoot, [input.calibrationOnly ? "calibrate" : "run", scenario.file]);
  assertClosedLoopEngine(scenario.manifest.spec.workload.load.mode, scenario.file, NATIVE_CLOSED_LOOP_PATH, input.projectRoot);
  const runId = newRunId();
  // Reports go where the user is, not into the tool (which may be under node_modules).
  const outDir = resolve(input.out ?? join(process.cwd(), "reports", runId));
  const { runtime, accounting, commandPath } = createRuntime({ name: runtimeName, workDir: join(outDir, "pods"), projectRoot: input.projectRoot, ...(input.kubernetes ? { kubernetes: input.kubernetes } : {}) });
  const progress = createProgress();
  const interrupt = onInterrupt((line) => progress.log(line), "stopping after cleaning up (pods are stopped, finished trials are kept)");
  let latest: Results | null = null;
  const persist = (results: Results) => {
    latest = results;
    writeReports(results, outDir);
  };
  try {
    const reaped = await runtime.reapOrphans();
    if (reaped.length > 0) progress.log(`reaped ${reaped.length} leftover(s) of earlier runs: ${reaped.join("; ")}`);
    progress.log(`run ${runId}: ${shownPath(scenario.file)} → ${shownPath(outDir)}`);
    const results = await runExperiment({
      scenario,
      runtime,
      runId,
      rounds: input.trials,
      seed: input.seed,
      calibrationOnly: input.calibrationOnly,
      reaped,
      signal: interrupt.signal,
      harnessVersion: `sidecar-bench ${input.version}`,
      accounting,
      commandPath,
      hooks: {
        persist,
        onPhase: (line) => progress.log(line),
        onPlan: (total) => progress.start(total, "rounds"),
        onTrialDone: (_results, label) => progress.advance(label),
      },
    });
    progress.stop();
    // spec.thresholds are judged on the finished analysis, then kept in every report file.
    results.thresholds = judgeThresholds(scenario.manifest.spec.thresholds, input.calibrationOnly ? [] : scenario.variants.map((v) => v.name), results);
    writeReports(results, outDir);
    writeFileAtomic(join(outDir, "junit.xml"), thresholdsJunit(results, input.strict === true));
    process.stdout.write(`\n${summaryMarkdown(results)}\n\n`);
    if (input.calibrationOnly && results.analysis?.noiseFloor) {
      const floor = results.analysis.noiseFloor.latency;
      process.stdout.write(`A/A noise floor (${AA_ARM}): p50 ±${floor.p50?.halfWidth.toFixed(1)} µs, p99 ±${floor.p99?.halfWidth.toFixed(1)} µs\n`);
    }
    for (const warning of results.warnings) process.stderr.write(`warning: ${warning}\n`);
    process.stdout.write(`reports: ${shownPath(outDir)}/ (report.html, report.md, results.json, trials.csv, summary.csv, junit.xml)\n`);
    if (!input.calibrationOnly) process.stdout.write(`${thresholdsSummary(results.thresholds)}${input.strict ? " (--strict: inconclusive fails)" : ""}\n`);
    if (results.status !== "interrupted") printNextSteps(input.calibrationOnly ? "calibrate" : "run", outDir);
    if (results.status === "interrupted") return 130;
    return thresholdsExitCode(results.thresholds, input.strict === true);
  } catch (error) {
    progress.stop();
    if (interrupt.signal.aborted) {
      process.stderr.write(`interrupted; finished trials are in ${shownPath(outDir)}/\n`);
      return 130;
    }
    const results = latest as Results | null;
    process.stderr.write(`run failed: ${(error as Error).message}\n`);
    if (results) process.stderr.write(`what finished is in ${shownPath(outDir)}/\n`);
    return 1;
  } finally {
    await runtime.stopAll();
    interrupt.dispose();
  }
}
