// One fault episode: a fresh pod of one integration under steady open-loop load — to
// its entry (what clients see) and straight to the primary (what happens to the primary
// itself) — then the function misbehaves (memory balloon, CPU spin, crash) or is
// restarted as an upgrade would, and every request's fate, the containers' resources and
// the primary's identity (pid, model load time) are recorded around it.
import { performance } from "node:perf_hooks";
import { Agent } from "undici";
import { exchange, type ExchangeResult } from "../load/http-exchange.ts";
import type { HttpRequestSpec } from "../load/kserve-request.ts";
import { runOpenLoop, type RequestOutcome } from "../load/open-loop.ts";
import { deriveSeed } from "../measure/prng.ts";
import type { ContainerStats, PodRuntime, PodSpec, ResourceLimits, StartedPod } from "../runtime/pod-runtime.ts";
import { PRIMARY_CONTAINER, PRIMARY_HTTP_PORT, toPodSpec, type ComparisonSpec, type ResolvedScenario, type ResolvedVariant } from "../scenario/index.ts";
import type { Column } from "./claims.ts";
import type { ContainerFate, EpisodeKind, EpisodeResult } from "./comparison-model.ts";
import { summarizeStream } from "./episode-streams.ts";

export const TIMELINE_BIN_MS = 250;
const SAMPLE_PERIOD_MS = 100;
const IDENTITY_WAIT_MS = 15_000;
const MiB = 1024 * 1024;

export interface EpisodeInput {
  runtime: PodRuntime;
  scenario: ResolvedScenario;
  variant: ResolvedVariant;
  column: Column;
  kind: EpisodeKind;
  runId: string;
  cpuSet?: number[];
  /** The keyed infer request every arm answers. */
  request: HttpRequestSpec;
  settings: ComparisonSpec["episodes"];
  seed: number;
  signal?: AbortSignal;
}

/** The container that hosts the function: the sidecar clients enter through, or the primary itself. */
export function unitOf(column: Column, variant: ResolvedVariant): string {
  return column === "sidecar" ? variant.entry.container : PRIMARY_CONTAINER;
}

/** The variant's pod with the episode's limits on the function's unit and the primary, restarting like a Deployment's pod. */
export function episodePodSpec(input: EpisodeInput): PodSpec {
  const { scenario, variant, column, kind, settings } = input;
  const unit = unitOf(column, variant);
  const spec = toPodSpec(scenario, variant.name, input.runId, { podName: `episode-${column}-${kind}`, ...(input.cpuSet ? { cpuSet: input.cpuSet } : {}) });
  return {
    ...spec,
    restartPolicy: "Always",
    containers: spec.containers.map((c) => {
      const limits: ResourceLimits | undefined = c.name === PRIMARY_CONTAINER ? settings.limits.primary : c.name === unit ? settings.limits.aux : undefined;
      return limits ? { ...c, resources: { ...c.resources, ...limits } } : c;
    }),
  };
}

function triggerPath(kind: EpisodeKind, settings: ComparisonSpec["episodes"]): string {
  if (kind === "memory-balloon") return `/aux/fault/balloon?mibPerSec=${settings.balloon.mibPerSec}&maxMiB=${settings.balloon.maxMiB}`;
  if (kind === "cpu-spin") return `/aux/fault/spin?seconds=${settings.spinSeconds}`;
  return "/aux/fault/crash";
}

interface Identity {
  pid: number | null;
  modelLoadedAt: number | null;
}

async function primaryIdentity(pod: StartedPod, headers: Record<string, string>, agent: Agent, waitMs: number, signal?: AbortSignal): Promise<Identity> {
  const deadline = performance.now() + waitMs;
  for (;;) {
    const result = await exchange(pod.url(PRIMARY_CONTAINER, PRIMARY_HTTP_PORT), { method: "GET", path: "/v2/debug/pid", headers }, {
      dispatcher: agent,
      signal: signal ?? new AbortController().signal,
      timeoutMs: 2_000,
    });
    if (result.ok && result.status === 200) {
      const body = JSON.parse(result.body.toString("utf8")) as { pid?: number; model_loaded_at?: number | null };
      // A primary still loading its model answers with model_loaded_at null: wait for it, the reload is the point.
      if (body.model_loaded_at !== null && body.model_loaded_at !== undefined) return { pid: body.pid ?? null, modelLoadedAt: body.model_loaded_at };
    }
    if (performance.now() > deadline || signal?.aborted) return { pid: null, modelLoadedAt: null };
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** Peak memory, OOM kills and CPU of each container, sampled through the episode. */
class ResourceWatch {
  private readonly first = new Map<string, ContainerStats>();
  private readonly atTrigger = new Map<string, ContainerStats>();
  private readonly last = new Map<string, ContainerStats>();
  private readonly peakBytes = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pod: StartedPod,
    private readonly containers: string[],
  ) {}

  async sample(into?: Map<string, ContainerStats>): Promise<void> {
    for (const name of this.containers) {
      // A container between a crash and its restart has nothing to read: skip that sample.
      const stats = await this.pod.stats(name).catch(() => null);
      if (stats === null) continue;
      if (!this.first.has(name)) this.first.set(name, stats);
      into?.set(name, stats);
      this.last.set(name, stats);
      this.peakBytes.set(name, Math.max(this.peakBytes.get(name) ?? 0, stats.memoryBytes));
    }
  }

  start(): void {
    this.timer = setInterval(() => void this.sample(), SAMPLE_PERIOD_MS);
  }

  markTrigger(): Promise<void> {
    return this.sample(this.atTrigger);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sample();
  }

  fate(name: string, windowMs: number): Omit<ContainerFate, "container" | "restarts" | "exits"> {
    const from = this.atTrigger.get(name) ?? this.first.get(name);
    const to = this.last.get(name);
    return {
      oomKills: (to?.oomKills ?? 0) - (this.first.get(name)?.oomKills ?? 0),
      memoryPeakMiB: (this.peakBytes.get(name) ?? 0) / MiB,
      vcpuDuring: from && to ? Math.max(0, to.cpuUsageUs - from.cpuUsageUs) / 1000 / windowMs : 0,
      throttledPeriods: (to?.throttledPeriods ?? 0) - (from?.throttledPeriods ?? 0),
    };
  }
}

export async function runEpisode(input: EpisodeInput): Promise<EpisodeResult> {
  const { runtime, variant, column, kind, settings, request } = input;
  const unit = unitOf(column, variant);
  const spec = episodePodSpec(input);
  const limitsOf = (name: string) => spec.containers.find((c) => c.name === name)?.resources ?? {};
  const result: EpisodeResult = {
    column,
    variant: variant.name,
    kind,
    unit,
    trigger: { how: kind === "restart" ? `restart of container ${unit}` : `POST ${triggerPath(kind, settings)}`, atMs: settings.beforeMs, accepted: false, detail: "not reached" },
    limits: { unit: limitsOf(unit), primary: limitsOf(PRIMARY_CONTAINER) },
    streams: [],
    primary: { pidBefore: null, pidAfter: null, modelLoadedAtBefore: null, modelLoadedAtAfter: null, restarted: false, modelReloaded: false, oomKilled: false },
    containers: [],
    faultTookEffect: false,
    timelineBinMs: TIMELINE_BIN_MS,
    error: null,
  };
  const agent = new Agent({ connections: 4 });
  let pod: StartedPod | undefined;
  try {
    pod = await runtime.startPod(spec);
    const identityBefore = await primaryIdentity(pod, request.headers, agent, IDENTITY_WAIT_MS, input.signal);
    const restartsBefore = new Map(pod.status().map((s) => [s.name, s.restartCount]));
    const eventsBefore = pod.events().length;
    const watch = new ResourceWatch(pod, spec.containers.map((c) => c.name));
    await watch.sample();
    watch.start();

    const durationMs = settings.beforeMs + settings.observeMs;
    const entryOutcomes: RequestOutcome[] = [];
    const primaryOutcomes: RequestOutcome[] = [];
    const stream = (url: string, ratePerSec: number, into: RequestOutcome[], seedOffset: number, connections: number) =>
      runOpenLoop({
        url,
        request,
        ratePerSec,
        arrival: "constant",
        seed: deriveSeed(input.seed, `arrivals-${seedOffset}`),
        durationMs,
        maxRequests: Math.ceil((ratePerSec * durationMs) / 1000) + 1,
        timeoutMs: settings.timeoutMs,
        maxConnections: connections,
        ...(input.signal ? { signal: input.signal } : {}),
        onOutcome: (o) => into.push(o),
      });
    const startedAtMs = performance.now();
    const loads = Promise.all([
      stream(pod.url(variant.entry.container, variant.entry.port), settings.ratePerSec, entryOutcomes, 0, 32),
      stream(pod.url(PRIMARY_CONTAINER, PRIMARY_HTTP_PORT), settings.probeRatePerSec, primaryOutcomes, 1, 8),
    ]);
    await new Promise((done) => setTimeout(done, settings.beforeMs));
    await watch.markTrigger();
    const triggerAtMs = performance.now();
    result.trigger.atMs = triggerAtMs - startedAtMs;
    let restarting: Promise<void> = Promise.resolve();
    if (kind === "restart") {
      restarting = pod.restart(unit).then(
        () => void (result.trigger.detail = "restarted through its start-up probe"),
        (error: Error) => void (result.trigger.detail = `restart failed: ${error.message}`),
      );
      result.trigger.accepted = true;
    } else {
      const answer = await exchange(pod.url(variant.entry.container, variant.entry.port), { method: "POST", path: triggerPath(kind, settings), headers: request.headers }, {
        dispatcher: agent,
        signal: input.signal ?? new AbortController().signal,
        timeoutMs: settings.timeoutMs,
      });
      result.trigger.accepted = answer.ok && answer.status === 202;
      result.trigger.detail = describeAnswer(answer);
    }
    await loads;
    await restarting;
    await watch.stop();

    const identityAfter = await primaryIdentity(pod, request.headers, agent, IDENTITY_WAIT_MS, input.signal);
    const exits = pod.events().slice(eventsBefore).filter((e) => e.type === "exited");
    result.containers = pod.status().map((s) => ({
      container: s.name,
      restarts: s.restartCount - (restartsBefore.get(s.name) ?? 0),
      exits: exits.filter((e) => e.container === s.name).map((e) => e.detail ?? "exited"),
      ...watch.fate(s.name, settings.observeMs),
    }));
    result.streams = [
      summarizeStream({ target: "entry", ratePerSec: settings.ratePerSec, outcomes: entryOutcomes, startedAtMs, triggerAtMs, binMs: TIMELINE_BIN_MS, seed: deriveSeed(input.seed, "entry") }),
      summarizeStream({ target: "primary", ratePerSec: settings.probeRatePerSec, outcomes: primaryOutcomes, startedAtMs, triggerAtMs, binMs: TIMELINE_BIN_MS, seed: deriveSeed(input.seed, "primary") }),
    ];
    const primaryFate = result.containers.find((c) => c.container === PRIMARY_CONTAINER)!;
    result.primary = {
      pidBefore: identityBefore.pid,
      pidAfter: identityAfter.pid,
      modelLoadedAtBefore: identityBefore.modelLoadedAt,
      modelLoadedAtAfter: identityAfter.modelLoadedAt,
      restarted: primaryFate.restarts > 0 || primaryFate.exits.length > 0 || identityBefore.pid !== identityAfter.pid,
      modelReloaded: identityBefore.modelLoadedAt !== identityAfter.modelLoadedAt,
      oomKilled: primaryFate.oomKills > 0,
    };
    result.faultTookEffect = tookEffect(kind, result.containers.find((c) => c.container === unit)!, result.limits.unit, settings.spinSeconds, settings.observeMs);
  } catch (error) {
    result.error = (error as Error).message;
  } finally {
    await pod?.stop().catch(() => undefined);
    await agent.destroy().catch(() => undefined);
  }
  return result;
}

/** Evidence that the fault really happened to the unit; without it the episode shows nothing either way. */
export function tookEffect(kind: EpisodeKind, unit: ContainerFate, limits: ResourceLimits, spinSeconds: number, observeMs: number): boolean {
  const died = unit.restarts > 0 || unit.exits.length > 0;
  switch (kind) {
    case "restart":
    case "crash":
      return died;
    case "memory-balloon":
      return unit.oomKills > 0 || died || (limits.memoryMiB !== undefined && unit.memoryPeakMiB >= 0.9 * limits.memoryMiB);
    case "cpu-spin": {
      // The spin must have burned at least half of what its quota allowed for its duration.
      const allowed = Math.min(limits.cpus ?? 1, 1) * Math.min(spinSeconds * 1000, observeMs);
      return unit.vcpuDuring * observeMs >= 0.5 * allowed;
    }
  }
}

function describeAnswer(answer: ExchangeResult): string {
  if (!answer.ok) return `${answer.kind} error: ${answer.message}`;
  return `${answer.status} ${answer.body.subarray(0, 120).toString("utf8")}`;
}
