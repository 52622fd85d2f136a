// `sidecar-bench compare`: validate the scenario (it must have spec.comparison), run the
// comparison with progress, keep the report folder current, print the table.
import { join, relative, resolve } from "node:path";
import { COMPARISON_FILES, comparisonSummary, writeComparisonReports } from "../compare/comparison-writers.ts";
import type { ComparisonResults } from "../compare/comparison-model.ts";
import { runComparison } from "../compare/run-comparison.ts";
import { createRuntime, unavailableRuntimeMessage, type KubernetesRequest } from "../runtime/create-runtime.ts";
import { loadScenario } from "../scenario/index.ts";
import { onInterrupt } from "./interrupts.ts";
import { createProgress } from "./progress.ts";
import { newRunId } from "./run-command.ts";
import { UsageError } from "./usage-error.ts";
import { printNextSteps } from "./next-steps.ts";
import { shownPath } from "./shown-path.ts";
import { assertLocalSetup, podPrograms } from "./setup-preflight.ts";

export interface CompareCommandInput {
  /** --kubeconfig, --context, --namespace, --pod-access (runtime kubernetes). */
  kubernetes?: KubernetesRequest;
  scenarioFile: string;
  trials?: number;
  seed?: number;
  out?: string;
  runtime?: string;
  /** --no-episodes: only equivalence, overhead and structure. */
  episodes: boolean;
  projectRoot: string;
  version: string;
}

export async function compareCommand(input: CompareCommandInput): Promise<number> {
  const scenario = await loadScenario(resolve(input.scenarioFile));
  const where = relative(process.cwd(), scenario.file);
  if (scenario.manifest.spec.comparison === undefined) {
    throw new UsageError(`${where}: spec.comparison: missing; name the variants that are the sidecar, monolithic and library integrations (see scenarios/compare.yaml)`);
  }
  const runtimeName = input.runtime ?? scenario.manifest.spec.runtime;
  const unavailable = unavailableRuntimeMessage(runtimeName);
  if (unavailable) throw new UsageError(`${where}: ${input.runtime ? "--runtime" : "spec.runtime"}: ${unavailable}`);
  if (input.trials !== undefined && input.trials < 2) throw new UsageError("--trials: expected at least 2 paired rounds (one cannot show variance)");
  assertLocalSetup(runtimeName, [scenario.baseline, ...scenario.variants].flatMap((arm) => podPrograms(arm.primary, arm.sidecars)), input.projectRoot, ["compare", scenario.file]);
  const runId = newRunId();
  const outDir = resolve(input.out ?? join(process.cwd(), "reports", `compare-${runId}`));
  const { runtime, accounting, commandPath } = createRuntime({ name: runtimeName, workDir: join(outDir, "pods"), projectRoot: input.projectRoot, ...(input.kubernetes ? { kubernetes: input.kubernetes } : {}) });
  const progress = createProgress();
  const interrupt = onInterrupt((line) => progress.log(line), "stopping after cleaning up (pods are stopped, finished measurements are kept)");
  let latest: ComparisonResults | null = null;
  try {
    const reaped = await runtime.reapOrphans();
    if (reaped.length > 0) progress.log(`reaped ${reaped.length} leftover(s) of earlier runs: ${reaped.join("; ")}`);
    progress.log(`compare ${runId}: ${shownPath(scenario.file)} → ${shownPath(outDir)}`);
    const results = await runComparison({
      scenario,
      runtime,
      runId,
      ...(input.trials !== undefined ? { rounds: input.trials } : {}),
      ...(input.seed !== undefined ? { seed: input.seed } : {}),
      skipEpisodes: !input.episodes,
      signal: interrupt.signal,
      harnessVersion: `sidecar-bench ${input.version}`,
      accounting,
      commandPath,
      projectRoot: input.projectRoot,
      reaped,
      hooks: {
        onPhase: (line) => progress.log(line),
        persist: (results) => {
          latest = results;
          writeComparisonReports(results, outDir);
        },
        experiment: {
          onPlan: (total) => progress.start(total, "overhead rounds"),
          onTrialDone: (_results, label) => progress.advance(label),
        },
      },
    });
    progress.stop();
    process.stdout.write(`\n${comparisonSummary(results)}\n\n`);
    const different = results.equivalence.filter((e) => !e.passed);
    for (const e of different) process.stderr.write(`warning: the ${e.column} integration (${e.variant}) failed the equivalence check; its cells are not distinguishable\n`);
    process.stdout.write(`reports: ${shownPath(outDir)}/ (${COMPARISON_FILES.join(", ")}, overhead/)\n`);
    if (results.status === "interrupted") return 130;
    printNextSteps("compare", outDir);
    return different.length > 0 ? 1 : 0;
  } catch (error) {
    progress.stop();
    if (interrupt.signal.aborted) {
      process.stderr.write(`interrupted; what finished is in ${shownPath(outDir)}/\n`);
      return 130;
    }
    process.stderr.write(`compare failed: ${(error as Error).message}\n`);
    if (latest) process.stderr.write(`what finished is in ${shownPath(outDir)}/\n`);
    return 1;
  } finally {
    await runtime.stopAll();
    interrupt.dispose();
  }
}
