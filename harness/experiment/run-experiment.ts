// A whole benchmark run: start one pod per variant (and the baseline), warm up, run the
// interleaved paired trials, analyse, and keep results.json current after every trial
// so an interrupted run keeps everything it finished.
import { buildWorkloadRequest } from "../load/workload-request.ts";
import { fingerprintEnvironment, withRuntimeDescription } from "../measure/environment.ts";
import { OUTLIER_RULE } from "../measure/paired-analysis.ts";
import { deriveSeed } from "../measure/prng.ts";
import { CLOSED_LOOP_DESCRIPTION } from "../load/closed-loop.ts";
import { LOCAL_DRIVER, type OpenLoopDriver } from "../load/open-loop-driver.ts";
import { VegetaDriver } from "../load/vegeta/vegeta-driver.ts";
import { measuredLoad } from "../load/vegeta/vegeta-load.ts";
import { UsageError } from "../cli/usage-error.ts";
import { RESULTS_KIND, RESULTS_SCHEMA_VERSION, type PlannedStep, type PodRecord, type Results } from "../report/results-model.ts";
import { describeRuntime } from "../runtime/create-runtime.ts";
import { describeDroppedOutput } from "../runtime/logs/dropped-output.ts";
import type { PodRuntime, StartedPod } from "../runtime/pod-runtime.ts";
import { Agent } from "undici";
import { GrpcInferClient } from "../load/grpc/grpc-infer-client.ts";
import { exchange } from "../load/http-exchange.ts";
import type { HttpRequestSpec } from "../load/kserve-request.ts";
import type { GrpcInferRequestSpec } from "../load/grpc/grpc-infer-request.ts";
import { BASELINE_VARIANT, PRIMARY_CONTAINER, PRIMARY_HTTP_PORT, toPodSpec, type LoadModel, type ResolvedScenario, type ResolvedVariant } from "../scenario/index.ts";
import { analyzeResults, type SidecarBudgets } from "./analyze-results.ts";
import { pinSelf, planPinning } from "./cpu-pinning.ts";
import { analyzeSweep, sweepRates } from "./rate-sweep.ts";
import { planRoundSlots, planTrials } from "./trial-plan.ts";
import { TOKEN_STREAM_NEEDS_OPEN_LOOP, armDurationMs, runClosedTrial, runOpenRound, type Arm } from "./trial-runner.ts";

/** Open loop: one step per round, the arms alternating in slots. Closed loop: one step per trial. */
export function planSteps(input: {
  load: LoadModel;
  trials: { warmupMs: number; slotMs: number };
  arms: string[];
  rounds: number;
  seed: number;
  perArmMs: number;
}): PlannedStep[] {
  const { load, trials, arms, rounds, seed } = input;
  if (load.mode === "closed") {
    return planTrials({ arms, rounds, seed })
      .trials.filter((t) => !t.warmup || trials.warmupMs > 0)
      .map((t) => ({ warmup: t.warmup, round: t.warmup ? null : t.round, arms: [t.arm], slotMs: null, slotOrder: [0] }));
  }
  const stepFor = (round: number | null, perArmMs: number): PlannedStep => {
    const slotMs = Math.min(trials.slotMs, perArmMs);
    const blocks = Math.ceil(perArmMs / slotMs);
    return { warmup: round === null, round, arms, slotMs, slotOrder: planRoundSlots({ armCount: arms.length, blocks, seed, round: round ?? "warmup" }) };
  };
  return [
    ...(trials.warmupMs > 0 ? [stepFor(null, trials.warmupMs)] : []),
    ...Array.from({ length: rounds }, (_, round) => stepFor(round, input.perArmMs)),
  ];
}

/**
 * A rate sweep: at each rate, lightest first, a warm-up and the rounds, as planSteps plans
 * them at that rate. Rounds are numbered across the sweep so each rate's pair up alone.
 */
export function planSweepSteps(input: Omit<Parameters<typeof planSteps>[0], "perArmMs"> & { trials: { durationMs: number; minRequests: number }; ratesPerSec: number[] }): PlannedStep[] {
  if (input.load.mode !== "open") throw new Error("a rate sweep needs an open-loop load");
  const openLoad = input.load;
  return input.ratesPerSec.flatMap((ratePerSec, k) =>
    planSteps({ ...input, load: { ...openLoad, ratePerSec }, seed: deriveSeed(input.seed, `sweep-${ratePerSec}`), perArmMs: armDurationMs({ ...openLoad, ratePerSec }, input.trials.durationMs, input.trials.minRequests) }).map(
      (step) => ({ ...step, round: step.round === null ? null : k * input.rounds + step.round, ratePerSec }),
    ),
  );
}

/** The A/A arm: the baseline pod measured as if it were a variant. Not a DNS label, so no variant can take the name. */
export const AA_ARM = "baseline/aa";

export interface ExperimentHooks {
  onPhase?(line: string): void;
  onPlan?(totalTrials: number): void;
  onTrialDone?(results: Results, label: string): void;
  /** Called with the current results after every change worth keeping. */
  persist(results: Results): void;
}

export interface ExperimentOptions {
  scenario: ResolvedScenario;
  runtime: PodRuntime;
  runId: string;
  /** Overrides of the scenario's own settings (CLI flags). */
  rounds?: number;
  /** Only the baseline and its A/A twin: measures the noise floor. */
  calibrationOnly?: boolean;
  /** What the runtime reaped from earlier runs before this one, for the report. */
  reaped?: string[];
  seed?: number;
  signal?: AbortSignal;
  hooks: ExperimentHooks;
  harnessVersion: string;
  /** "cgroup-v1" | "cgroup-v2" | "proc" | ... */
  accounting: string;
  /** PATH the pods' commands resolve on (versions in the fingerprint come from it). */
  commandPath: string;
}

export async function runExperiment(options: ExperimentOptions): Promise<Results> {
  const { scenario, runtime, hooks, signal } = options;
  const spec = scenario.manifest.spec;
  const seed = options.seed ?? spec.seed;
  const rounds = options.rounds ?? spec.trials.rounds;
  let variants = options.calibrationOnly ? [] : scenario.variants;
  const aaArm = spec.calibration.aa || options.calibrationOnly ? AA_ARM : null;
  let arms = [BASELINE_VARIANT, ...variants.map((v) => v.name), ...(aaArm ? [aaArm] : [])];
  // mode vegeta runs as mode open with constant arrivals; only its driver differs.
  const load = measuredLoad(spec.workload.load);
  if (spec.workload.load.mode === "vegeta" && runtime.getName() === "kubernetes") {
    throw new UsageError(`${scenario.file}: spec.workload.load.mode: vegeta load runs on the local and docker runtimes; use mode open on kubernetes`);
  }
  // Found (or refused with how to install it) before any pod starts.
  const vegeta = spec.workload.load.mode === "vegeta" ? await VegetaDriver.create(options.commandPath) : null;
  const perArmMs = armDurationMs(load, spec.trials.durationMs, spec.trials.minRequests);
  const sweep = spec.sweep ? { ratesPerSec: sweepRates(spec.sweep), kneeP99Factor: spec.sweep.kneeP99Factor } : null;
  const plan = (armNames: string[]) =>
    sweep
      ? planSweepSteps({ load, trials: spec.trials, arms: armNames, rounds, seed, ratesPerSec: sweep.ratesPerSec })
      : planSteps({ load, trials: spec.trials, arms: armNames, rounds, seed, perArmMs });
  let steps = plan(arms);
  const pinning = (await runtime.pinningPlan?.(spec.pinning.mode)) ?? planPinning(spec.pinning.mode);
  const pinError = pinSelf(pinning.loadGeneratorCpus);
  const request = buildWorkloadRequest(spec.workload.request, scenario.primary.manifest.spec.model, deriveSeed(seed, "payload"));
  if (request.grpc) refuseGrpcWhereItCannotRun(scenario, runtime.getName(), spec.workload.load.mode);
  if (request.tokenStream && spec.workload.load.mode !== "open") throw new Error(`${scenario.file}: ${TOKEN_STREAM_NEEDS_OPEN_LOOP}`);
  const results: Results = {
    kind: RESULTS_KIND,
    schemaVersion: RESULTS_SCHEMA_VERSION,
    runId: options.runId,
    status: "running",
    startedAt: new Date().toISOString(),
    finishedAt: null,
    scenario: { file: scenario.file, name: scenario.manifest.metadata.name, sha256: scenario.sha256, spec },
    primary: {
      name: scenario.primary.manifest.metadata.name,
      version: scenario.primary.manifest.metadata.version ?? null,
      file: scenario.primary.file,
      sha256: scenario.primary.sha256,
    },
    environment: fingerprintEnvironment({
      scenarioSha256: scenario.sha256,
      runtime: runtime.getName(),
      accounting: options.accounting,
      pinning: pinError ? `${pinning.description} — failed: ${pinError}` : pinning.description,
      harnessVersion: options.harnessVersion,
      loadGenerator: vegeta ? vegeta.description : load.mode === "open" ? LOCAL_DRIVER.description : CLOSED_LOOP_DESCRIPTION,
      path: options.commandPath,
    }),
    plan: {
      seed,
      arms,
      aaArm,
      rounds,
      trialDurationMs: perArmMs,
      interleaving: load.mode === "open" ? "slots" : "sequential",
      slotMs: load.mode === "open" ? spec.trials.slotMs : null,
      minRequests: spec.trials.minRequests,
      warmupMs: spec.trials.warmupMs,
      outlierRule: OUTLIER_RULE,
      steps,
    },
    pods: [],
    trials: [],
    analysis: null,
    warnings: pinError ? [pinError] : [],
    reaped: options.reaped ?? [],
    error: null,
  };
  hooks.persist(results);

  const pods = new Map<string, StartedPod>();
  const restartsSeen = new Map<string, number>();
  let driver: OpenLoopDriver = vegeta ?? LOCAL_DRIVER;
  try {
    for (const variant of [scenario.baseline, ...variants]) {
      if (signal?.aborted) break;
      hooks.onPhase?.(`starting pod for ${variant.name} (${describeContainers(variant)})`);
      const pod = await runtime.startPod(
        toPodSpec(scenario, variant.name, options.runId, { podName: `${variant.name}`, ...(pinning.podCpus ? { cpuSet: pinning.podCpus } : {}) }),
      );
      pods.set(variant.name, pod);
      results.pods.push(await describePod(pod, variant, variant.name === BASELINE_VARIANT && aaArm ? [BASELINE_VARIANT, aaArm] : [variant.name]));
      hooks.persist(results);
    }
    // After the pods: a generator pod is placed relative to them.
    if (spec.workload.load.mode === "open" && runtime.openLoopDriver && !signal?.aborted) {
      hooks.onPhase?.("starting the load generator beside the pods");
      driver = await runtime.openLoopDriver(options.runId, { placement: spec.placement.loadGenerator, ...(signal ? { signal } : {}) });
      results.environment.loadGenerator = driver.description;
    }
    // Engine and images are known only now that the pods run on them.
    const described = await withRuntimeDescription(results.environment, () => describeRuntime(runtime));
    results.environment = described.fingerprint;
    if (described.error) results.warnings.push(described.error);
    hooks.persist(results);
    if (!request.grpc && !signal?.aborted) {
      // One request to the bare primary first: a model it does not serve or a tensor it
      // refuses would otherwise spend the whole run on errors.
      const problem = await probeHttp(pods.get(scenario.baseline.name)!.url(scenario.baseline.entry.container, scenario.baseline.entry.port), request, signal);
      if (problem !== null) throw new Error(`${scenario.file}: spec.workload.request: the primary ${scenario.primary.manifest.metadata.name} ${problem}`);
    }
    if (request.grpc && !signal?.aborted) {
      // A variant whose entry cannot carry gRPC (a proxy that speaks HTTP/1.1 only) is not
      // supported for this workload: left out with why, not failed; the baseline must answer.
      for (const variant of [scenario.baseline, ...variants]) {
        const problem = await probeGrpc(pods.get(variant.name)!.url(variant.entry.container, grpcPort(variant.entry).port), request.grpc);
        if (problem === null) continue;
        if (variant === scenario.baseline) throw new Error(`the primary does not answer KServe v2 gRPC on its grpc port: ${problem}`);
        (results.notSupported ??= []).push({ variant: variant.name, reason: `gRPC through ${variant.entry.container}.${variant.entry.port}: ${problem}` });
        hooks.onPhase?.(`variant ${variant.name}: not supported for the gRPC workload (${problem})`);
      }
      const unsupported = new Set((results.notSupported ?? []).map((n) => n.variant));
      if (unsupported.size > 0) {
        variants = variants.filter((v) => !unsupported.has(v.name));
        arms = arms.filter((arm) => !unsupported.has(arm));
        steps = plan(arms);
        results.plan = { ...results.plan, arms, steps };
      }
      hooks.persist(results);
    }
    const armsByName = new Map<string, Arm>(
      arms.map((name) => {
        const variant = name === aaArm || name === BASELINE_VARIANT ? scenario.baseline : variants.find((v) => v.name === name)!;
        return [name, { name, pod: pods.get(variant.name)!, entry: request.grpc ? grpcPort(variant.entry) : variant.entry }];
      }),
    );
    hooks.onPlan?.(steps.length);
    let sequence = 0;
    for (const step of steps) {
      if (signal?.aborted) break;
      const stepArms = step.arms.map((name) => armsByName.get(name)!);
      // A sweep's step sets its own rate; the load is otherwise the scenario's.
      const stepLoad = load.mode === "open" && step.ratePerSec !== undefined ? { ...load, ratePerSec: step.ratePerSec } : load;
      const stepResults =
        load.mode === "open"
          ? await runOpenRound({
              firstSequence: sequence,
              round: step.round,
              warmup: step.warmup,
              arms: stepArms,
              slotOrder: step.slotOrder,
              slotMs: step.slotMs!,
              request,
              load: stepLoad as Extract<typeof load, { mode: "open" }>,
              seed: deriveSeed(seed, step.warmup ? `arrivals-warmup${step.ratePerSec ?? ""}` : `arrivals-round-${step.round}`),
              maxRateShortfallPct: spec.thresholds.maxRateShortfallPct,
              driver,
              signal,
            })
          : [
              await runClosedTrial({
                sequence,
                round: step.round,
                warmup: step.warmup,
                arm: stepArms[0]!,
                request,
                load,
                durationMs: step.warmup ? spec.trials.warmupMs : spec.trials.durationMs,
                signal,
              }),
            ];
      if (signal?.aborted) break; // a window cut short is not a measurement
      sequence += stepResults.length;
      results.trials.push(...stepResults);
      for (const result of stepResults) results.warnings.push(...trialWarnings(result, armsByName.get(result.arm)!.pod, restartsSeen));
      const label = `${step.ratePerSec !== undefined ? `${step.ratePerSec} req/s ` : ""}${step.warmup ? "warm-up" : `round ${(step.round! % rounds) + 1}/${rounds}`}: ${stepResults
        .map((r) => `${r.arm} p50 ${fmtUs(r.latencyUs.p50)}`)
        .join(", ")}`;
      hooks.persist(results);
      hooks.onTrialDone?.(results, label);
    }
    const analyze = (trials: Results["trials"]) =>
      analyzeResults({
        trials,
        pods: results.pods,
        baselineArm: BASELINE_VARIANT,
        aaArm,
        variants: variants.map((v) => v.name),
        budgets: budgetsOf(variants),
        seed: deriveSeed(seed, "analysis"),
      });
    if (sweep) {
      results.sweep = analyzeSweep({ trials: results.trials, arms, ...sweep, seed: deriveSeed(seed, "sweep"), maxRateShortfallPct: spec.thresholds.maxRateShortfallPct, analyze });
      results.analysis = results.sweep.perRate[0]?.analysis ?? null;
    } else {
      results.analysis = analyze(results.trials);
    }
    results.status = signal?.aborted ? "interrupted" : "complete";
  } catch (error) {
    results.status = signal?.aborted ? "interrupted" : "failed";
    results.error = (error as Error).message;
    throw error;
  } finally {
    await driver.close().catch((error: Error) => results.warnings.push(`the load generator did not close cleanly: ${error.message}`));
    for (const [name, pod] of pods) {
      const stopped = await pod.stop();
      const record = results.pods.find((p) => p.name === name || p.variant === name);
      if (record) record.events = stopped.events;
      for (const container of stopped.containers.filter((c) => c.killed)) {
        results.warnings.push(`pod ${name}: container ${container.name} ignored SIGTERM and was killed at the end of the grace period`);
      }
      for (const container of stopped.containers) {
        const usage = pod.logUsage?.(container.name);
        if (!usage) continue;
        if (record) (record.logs ??= []).push({ container: container.name, ...usage });
        const dropped = describeDroppedOutput(usage);
        if (dropped) results.warnings.push(`pod ${name}: container ${container.name}: log capped: ${dropped}`);
      }
    }
    results.finishedAt = new Date().toISOString();
    hooks.persist(results);
  }
  return results;
}

async function describePod(pod: StartedPod, variant: ResolvedVariant, arms: string[]): Promise<PodRecord> {
  // Idle memory: after readiness, before any load.
  await new Promise((done) => setTimeout(done, 500));
  const containers = await Promise.all(
    pod.status().map(async (status) => ({
      name: status.name,
      kind: status.kind,
      timeToStartedMs: status.timeToStartedMs ?? null,
      timeToReadyMs: status.timeToReadyMs ?? null,
      idleMemoryMiB: (await pod.stats(status.name)).memoryBytes / (1024 * 1024),
    })),
  );
  return { name: pod.spec.name, variant: variant.name, arms, containers, events: pod.events() };
}

function trialWarnings(result: Results["trials"][number], pod: StartedPod, restartsSeen: Map<string, number>): string[] {
  const warnings: string[] = [];
  const where = `trial ${result.sequence} (${result.arm}${result.warmup ? ", warm-up" : ""})`;
  if (result.load.rateShortfall) {
    warnings.push(`${where}: achieved ${result.load.achievedRatePerSec.toFixed(1)} req/s, ${result.load.rateShortfallPct?.toFixed(1)}% short of the target ${result.load.targetRatePerSec} req/s`);
  }
  const errors = Object.entries(result.load.errors);
  if (errors.length > 0) warnings.push(`${where}: errors ${errors.map(([k, v]) => `${k}×${v}`).join(", ")}`);
  for (const status of pod.status()) {
    const key = `${pod.spec.name}/${status.name}`;
    const before = restartsSeen.get(key) ?? 0;
    if (status.restartCount > before) warnings.push(`${where}: container ${status.name} restarted ${status.restartCount - before} time(s) during the trial`);
    restartsSeen.set(key, status.restartCount);
  }
  return warnings;
}

function budgetsOf(variants: ResolvedVariant[]): Record<string, Record<string, SidecarBudgets>> {
  return Object.fromEntries(
    variants.map((v) => [v.name, Object.fromEntries(v.sidecars.map((s) => [s.manifest.metadata.name, s.manifest.spec.budgets ?? {}]))]),
  );
}

function describeContainers(variant: ResolvedVariant): string {
  return [...variant.sidecars.map((s) => s.manifest.metadata.name), PRIMARY_CONTAINER].join(" + ");
}

function fmtUs(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${Math.round(us)} µs`;
}

/** gRPC goes to the primary's grpc port where HTTP would go to its http port; a sidecar's entry takes both. */
function grpcPort(entry: { container: string; port: string }): { container: string; port: string } {
  return entry.container === PRIMARY_CONTAINER && entry.port === PRIMARY_HTTP_PORT ? { container: PRIMARY_CONTAINER, port: "grpc" } : entry;
}

/** Before any pod starts: where a gRPC workload cannot run, a usage error naming the field. */
function refuseGrpcWhereItCannotRun(scenario: ResolvedScenario, runtimeName: string, loadMode: string): void {
  const field = `${scenario.file}: spec.workload.request.protocol: grpc`;
  if (scenario.primary.manifest.spec.ports["grpc"] === undefined) throw new UsageError(`${field}: the primary ${scenario.primary.manifest.metadata.name} declares no grpc port`);
  if (loadMode === "vegeta") throw new UsageError(`${field}: vegeta sends HTTP/1.1 only; use load mode open`);
  if (loadMode !== "open") throw new UsageError(`${field}: gRPC load runs as an open loop; use load mode open`);
  if (runtimeName === "kubernetes") throw new UsageError(`${field}: gRPC load runs on the local and docker runtimes (the in-cluster generator sends HTTP)`);
}

/**
 * The workload's request once to the bare primary: what is wrong when it answers 4xx (the
 * request names a model it lacks, or tensors it refuses); null otherwise. A transport error
 * or a 5xx is left to the run, which counts and reports such errors.
 */
async function probeHttp(url: string, request: HttpRequestSpec, signal: AbortSignal | undefined): Promise<string | null> {
  const agent = new Agent();
  try {
    const answer = await exchange(url, { method: request.method, path: request.path, headers: request.headers, body: request.body }, { dispatcher: agent, signal: signal ?? new AbortController().signal, timeoutMs: 10_000 });
    if (!answer.ok || answer.status < 400 || answer.status >= 500) return null;
    return `answers ${request.method} ${request.path} with ${answer.status}: ${answer.body.toString("utf8").slice(0, 200)}`;
  } finally {
    await agent.destroy();
  }
}

/** Three ModelInfer calls through `url`: null when one is answered OK, else what went wrong. */
async function probeGrpc(url: string, request: GrpcInferRequestSpec): Promise<string | null> {
  const client = new GrpcInferClient(url);
  try {
    await client.connect(5_000);
    let last = "";
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await client.infer(request, { timeoutMs: 5_000 });
      if (result.ok) return null;
      last = `${result.kind}${result.message ? ` (${result.message})` : ""}`;
    }
    return last;
  } catch (error) {
    return (error as Error).message;
  } finally {
    client.close();
  }
}
