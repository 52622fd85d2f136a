// `sidecar-bench compare`, the whole run: check that the three integrations do the same
// work, measure their overhead with the paired benchmark of `run`, set off each fault
// episode, count the pods' structure, and turn all of it into the table. results.json is
// rewritten after every phase and episode, so an interrupted run keeps what it finished.
import { basename } from "node:path";
import { Agent } from "undici";
import { runExperiment, type ExperimentHooks } from "../experiment/run-experiment.ts";
import { pinSelf, planPinning } from "../experiment/cpu-pinning.ts";
import { exchange } from "../load/http-exchange.ts";
import { buildInferRequest, type HttpRequestSpec } from "../load/kserve-request.ts";
import { inferModel, requireInferBlock } from "../load/workload-request.ts";
import { fingerprintEnvironment, withRuntimeDescription } from "../measure/environment.ts";
import { describeRuntime } from "../runtime/create-runtime.ts";
import { deriveSeed } from "../measure/prng.ts";
import type { PodRuntime, StartedPod } from "../runtime/pod-runtime.ts";
import { PRIMARY_CONTAINER, PRIMARY_HTTP_PORT, toPodSpec, type ComparisonSpec, type ResolvedScenario, type ResolvedVariant } from "../scenario/index.ts";
import { CLAIMS, COLUMNS, type Column } from "./claims.ts";
import { COMPARISON_KIND, COMPARISON_SCHEMA_VERSION, type Cell, type ComparisonResults, type EpisodeKind, type EquivalenceResult } from "./comparison-model.ts";
import { checkEquivalence } from "./equivalence-check.ts";
import { podStructure } from "./pod-structure.ts";
import {
  COMPLEXITY_RULE,
  OVERHEAD_RULE,
  complexityCell,
  couplingCell,
  faultIsolationCell,
  lifecycleCell,
  lockInCell,
  overheadCell,
  polyglotCell,
  resourceIsolationCell,
} from "./row-verdicts.ts";
import { runEpisode, unitOf } from "./run-episode.ts";

export const EPISODE_KINDS: readonly EpisodeKind[] = ["memory-balloon", "cpu-spin", "restart", "crash"];
/** The sidecar serves its metrics on this port (reference/integrations/README.md). */
const SIDECAR_METRICS_PORT = "admin";

export interface ComparisonHooks {
  onPhase?(line: string): void;
  persist(results: ComparisonResults): void;
  /** Progress of the overhead benchmark, as `run` reports it. */
  experiment?: Omit<ExperimentHooks, "persist">;
}

export interface ComparisonOptions {
  scenario: ResolvedScenario;
  runtime: PodRuntime;
  runId: string;
  rounds?: number;
  seed?: number;
  /** Leave out the fault episodes (quick runs; the rows they decide become not-distinguishable). */
  skipEpisodes?: boolean;
  signal?: AbortSignal;
  hooks: ComparisonHooks;
  harnessVersion: string;
  accounting: string;
  commandPath: string;
  projectRoot: string;
  reaped?: string[];
}

/** The primary's language, from its container command (python → Python). */
export function languageOfCommand(command: readonly string[]): string {
  const program = basename(command[0] ?? "");
  if (/^python(\d+(\.\d+)?)?$/.test(program)) return "Python";
  if (program === "node") return "JavaScript";
  return program;
}

export function requireComparison(scenario: ResolvedScenario): ComparisonSpec {
  const comparison = scenario.manifest.spec.comparison;
  if (comparison === undefined) throw new Error(`${scenario.file}: spec.comparison is missing: name the sidecar, monolithic and library variants to compare`);
  return comparison;
}

function variantOf(scenario: ResolvedScenario, name: string): ResolvedVariant {
  return scenario.variants.find((v) => v.name === name)!;
}

export async function runComparison(options: ComparisonOptions): Promise<ComparisonResults> {
  const { scenario, runtime, hooks, signal } = options;
  const spec = scenario.manifest.spec;
  const comparison = requireComparison(scenario);
  const seed = options.seed ?? spec.seed;
  const columns = Object.fromEntries(COLUMNS.map((c) => [c, comparison[c]])) as Record<Column, string>;
  const pinning = (await runtime.pinningPlan?.(spec.pinning.mode)) ?? planPinning(spec.pinning.mode);
  const pinError = pinSelf(pinning.loadGeneratorCpus);
  const cpuSet = pinning.podCpus ? { cpuSet: pinning.podCpus } : {};
  const infer = requireInferBlock(spec.workload.request, scenario.file);
  const request = buildInferRequest({ ...infer, model: inferModel(infer, scenario.primary.manifest.spec.model) }, deriveSeed(seed, "payload"));
  const results: ComparisonResults = {
    kind: COMPARISON_KIND,
    schemaVersion: COMPARISON_SCHEMA_VERSION,
    runId: options.runId,
    status: "running",
    startedAt: new Date().toISOString(),
    finishedAt: null,
    scenario: { file: scenario.file, name: scenario.manifest.metadata.name, sha256: scenario.sha256, spec },
    seed,
    environment: fingerprintEnvironment({
      scenarioSha256: scenario.sha256,
      runtime: runtime.getName(),
      accounting: options.accounting,
      pinning: pinError ? `${pinning.description} — failed: ${pinError}` : pinning.description,
      harnessVersion: options.harnessVersion,
      // The episodes drive the open loop in this process: they need every request's outcome (run-episode.ts).
      loadGenerator: "sidecar-bench open loop (undici and a lean HTTP/1.1 pool), in the harness's own process",
      path: options.commandPath,
    }),
    variants: columns,
    rules: { isolation: comparison.isolation, complexity: COMPLEXITY_RULE, overhead: OVERHEAD_RULE },
    equivalence: [],
    overhead: null,
    episodes: [],
    structure: [],
    table: [],
    warnings: [...(pinError ? [pinError] : []), ...(options.reaped?.length ? [`reaped before this run: ${options.reaped.join("; ")}`] : [])],
    error: null,
  };
  const persist = () => hooks.persist(results);
  persist();

  try {
    // Structure first: it needs no pod, and a run cut short still has this row.
    for (const variant of [scenario.baseline, ...COLUMNS.map((c) => variantOf(scenario, columns[c]))]) {
      results.structure.push(podStructure(variant, toPodSpec(scenario, variant.name, options.runId).containers, options.projectRoot));
    }
    persist();

    hooks.onPhase?.("equivalence: do the three integrations do the same work?");
    results.equivalence = await checkAll(scenario, columns, { runtime, runId: options.runId, request, cpuSet, ...(signal ? { signal } : {}) });
    for (const eq of results.equivalence) {
      hooks.onPhase?.(`  ${eq.column} (${eq.variant}): ${eq.passed ? "same work" : `NOT the same work — ${eq.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`).join("; ")}`}`);
    }
    persist();

    if (!signal?.aborted) {
      hooks.onPhase?.("overhead: paired, interleaved open-loop rounds against the bare primary");
      const experimentScenario: ResolvedScenario = { ...scenario, variants: COLUMNS.map((c) => variantOf(scenario, columns[c])) };
      await runExperiment({
        scenario: experimentScenario,
        runtime,
        runId: options.runId,
        ...(options.rounds !== undefined ? { rounds: options.rounds } : {}),
        seed,
        ...(signal ? { signal } : {}),
        harnessVersion: options.harnessVersion,
        accounting: options.accounting,
        commandPath: options.commandPath,
        hooks: {
          ...hooks.experiment,
          persist: (overhead) => {
            results.overhead = overhead;
            persist();
          },
        },
      });
    }

    if (!options.skipEpisodes) {
      for (const column of COLUMNS) {
        for (const kind of EPISODE_KINDS) {
          if (signal?.aborted) break;
          const variant = variantOf(scenario, columns[column]);
          hooks.onPhase?.(`episode ${column} / ${kind}: ${kind === "restart" ? "restart" : kind} of ${unitOf(column, variant)} under load`);
          const episode = await runEpisode({
            runtime,
            scenario,
            variant,
            column,
            kind,
            runId: options.runId,
            ...cpuSet,
            request,
            settings: comparison.episodes,
            seed: deriveSeed(seed, `episode-${column}-${kind}`),
            ...(signal ? { signal } : {}),
          });
          results.episodes.push(episode);
          hooks.onPhase?.(`  ${describeEpisode(episode)}`);
          persist();
        }
      }
    }
    results.table = buildTable(results);
    results.status = signal?.aborted ? "interrupted" : "complete";
  } catch (error) {
    results.status = signal?.aborted ? "interrupted" : "failed";
    results.error = (error as Error).message;
    results.table = buildTable(results);
    throw error;
  } finally {
    // The engine and the images of every pod that ran (docker); nothing for local.
    const described = await withRuntimeDescription(results.environment, () => describeRuntime(runtime));
    results.environment = described.fingerprint;
    if (described.error) results.warnings.push(described.error);
    results.finishedAt = new Date().toISOString();
    persist();
  }
  return results;
}

async function checkAll(
  scenario: ResolvedScenario,
  columns: Record<Column, string>,
  context: { runtime: PodRuntime; runId: string; request: HttpRequestSpec; cpuSet: { cpuSet?: number[] }; signal?: AbortSignal },
): Promise<EquivalenceResult[]> {
  const agent = new Agent({ connections: 4 });
  const signal = context.signal ?? new AbortController().signal;
  const pods: StartedPod[] = [];
  try {
    const bare = await context.runtime.startPod(toPodSpec(scenario, scenario.baseline.name, context.runId, { podName: "equivalence-baseline", ...context.cpuSet }));
    pods.push(bare);
    const reference = await exchange(bare.url(PRIMARY_CONTAINER, PRIMARY_HTTP_PORT), { method: "POST", path: context.request.path, headers: context.request.headers, body: context.request.body }, { dispatcher: agent, signal, timeoutMs: 5_000 });
    if (!reference.ok || reference.status !== 200) throw new Error(`the bare primary did not answer the scenario's request: ${reference.ok ? reference.status : reference.message}`);
    const checked: EquivalenceResult[] = [];
    for (const column of COLUMNS) {
      const variant = variantOf(scenario, columns[column]);
      const pod = await context.runtime.startPod(toPodSpec(scenario, variant.name, context.runId, { podName: `equivalence-${column}`, ...context.cpuSet }));
      pods.push(pod);
      const unit = unitOf(column, variant);
      checked.push(
        await checkEquivalence(
          {
            column,
            variant: variant.name,
            pod,
            entry: variant.entry,
            unit: { container: unit, metricsPort: column === "sidecar" ? SIDECAR_METRICS_PORT : PRIMARY_HTTP_PORT },
            primaryLanguage: languageOfCommand(variant.primary.manifest.spec.container.command),
          },
          { request: context.request, reference: reference.body, agent, signal, timeoutMs: 5_000 },
        ),
      );
      await pod.stop();
    }
    return checked;
  } finally {
    for (const pod of pods) await pod.stop();
    await agent.destroy();
  }
}

function describeEpisode(episode: ComparisonResults["episodes"][number]): string {
  if (episode.error) return `failed: ${episode.error}`;
  const entry = episode.streams.find((s) => s.target === "entry");
  const direct = episode.streams.find((s) => s.target === "primary");
  const pct = (v: number | null | undefined) => (v === null || v === undefined ? "–" : `${v.toFixed(1)}%`);
  return (
    `trigger ${episode.trigger.accepted ? "accepted" : `NOT accepted (${episode.trigger.detail})`}; took effect: ${episode.faultTookEffect ? "yes" : "no"}; ` +
    `primary ${episode.primary.restarted ? `restarted (pid ${episode.primary.pidBefore} → ${episode.primary.pidAfter})` : "kept its process"}${episode.primary.oomKilled ? ", OOM-killed" : ""}; ` +
    `availability clients ${pct(entry?.during.availabilityPct)}, primary ${pct(direct?.during.availabilityPct)}`
  );
}

/** The table from whatever the run measured; rows whose evidence is missing say so. */
export function buildTable(results: ComparisonResults): Cell[] {
  const rule = results.rules.isolation;
  const structureOf = (variant: string) => results.structure.find((s) => s.variant === variant);
  const baseline = results.structure.find((s) => s.variant === "baseline");
  const cells: Cell[] = [];
  for (const column of COLUMNS) {
    const variant = results.variants[column];
    const equivalence = results.equivalence.find((e) => e.column === column);
    const structure = structureOf(variant);
    const episodes = results.episodes.filter((e) => e.column === column);
    const analysis = results.overhead?.analysis?.variants.find((v) => v.variant === variant);
    const sameWork = equivalence?.passed === true;
    const overhead = overheadCell(column, sameWork ? analysis?.latency["p50"] : undefined, analysis?.latency["p99"]);
    if (!sameWork && analysis) overhead.measured = `undecided — the integration failed the equivalence check, so its cost is not the function's (${overhead.measured})`;
    cells.push(
      structure && baseline ? couplingCell(column, equivalence, structure, baseline) : missing("deployment-coupling", column),
      resourceIsolationCell(column, episodes.filter((e) => e.kind === "memory-balloon" || e.kind === "cpu-spin"), rule),
      lifecycleCell(column, episodes.find((e) => e.kind === "restart")),
      polyglotCell(column, equivalence),
      overhead,
      faultIsolationCell(column, episodes.find((e) => e.kind === "crash"), rule),
      structure && baseline ? complexityCell(column, structure, baseline) : missing("deployment-complexity", column),
      lockInCell(column, equivalence),
    );
  }
  return cells;
}

function missing(row: Cell["row"], column: Column): Cell {
  return { row, column, claim: CLAIMS[row][column].text, measured: "not measured", verdict: "not-distinguishable", basis: "derived", evidence: {} };
}
