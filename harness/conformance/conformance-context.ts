// The context a conformance check runs in: the sidecar under test, the reference
// primary, and pods of both on a runtime; every pod a check starts is stopped after it.
import { randomBytes } from "node:crypto";
import type { PodRuntime, PodSpec, StartedPod } from "../runtime/pod-runtime.ts";
import {
  PRIMARY_CONTAINER,
  PRIMARY_HTTP_PORT,
  toContainerSpec,
  type LoadedManifest,
  type PrimaryManifest,
  type SidecarManifest,
} from "../scenario/index.ts";
import type { ConformanceContext, PodOptions } from "./conformance-test.ts";
import { suitePolicy, type EffectivePolicy } from "./certification-policy.ts";
import { randomSecret, wireRoles } from "../scenario/role-wiring.ts";

export interface ContextInput {
  sidecar: LoadedManifest<SidecarManifest>;
  primary: LoadedManifest<PrimaryManifest>;
  runtime: PodRuntime;
  runId: string;
  /** CPUs for pods (pinning), if the caller pins. */
  cpuSet?: number[];
  signal?: AbortSignal;
  /** The certification's policy: thresholds and suite config (default: the suite's own). */
  policy?: EffectivePolicy;
  /** The secret a secrets sidecar fetches from the reference store (default: random per context). */
  secretValue?: string;
  /** The certification's seed of its checks' secrets (check-secrets.ts); run-check derives each check's secretValue from it. */
  secretSeed?: string;
}

export interface ScopedContext {
  context: ConformanceContext;
  /** Stops every pod the check started, within TEARDOWN_GRACE_MS (safe to call twice). */
  close(): Promise<void>;
}

export function podSpecFor(input: ContextInput & { secretValue: string }, options: PodOptions = {}): PodSpec {
  const sidecarName = input.sidecar.manifest.metadata.name;
  const primary = toContainerSpec(PRIMARY_CONTAINER, "main", input.primary);
  if (options.primaryEnv) primary.env = { ...primary.env, ...options.primaryEnv };
  const suffix = randomBytes(2).toString("hex");
  const pod: PodSpec = {
    name: `${options.withoutSidecar ? "direct" : sidecarName}-${suffix}`,
    runId: input.runId,
    containers: options.withoutSidecar ? [primary] : [toContainerSpec(sidecarName, "sidecar", input.sidecar), primary],
    terminationGracePeriodMs: options.terminationGracePeriodMs ?? (input.policy ?? suitePolicy()).suite.podGracePeriodMs,
    ...(input.cpuSet ? { cpuSet: [...input.cpuSet] } : {}),
  };
  // The direct path is the primary alone, as a pod without the sidecar would run it.
  return options.withoutSidecar ? pod : wireRoles(pod, [input.sidecar.manifest], { runId: input.runId, secretValue: input.secretValue });
}

/**
 * The grace period of the stop after a check's verdict: nothing observes those pods any
 * more, so a sidecar that ignores SIGTERM is not waited on for the whole pod grace period
 * (10 s by default, per check: a minute of every run of such a sidecar). Long enough that a
 * sidecar and primary that do exit on SIGTERM still end gracefully on a loaded machine
 * (≈ 0.2 s measured locally). A check's own pod.stop() keeps the grace it chose: the first
 * stop of a pod is the only one.
 */
export const TEARDOWN_GRACE_MS = 2_000;

/** A fresh context per check, so one check's pods never leak into the next. */
export function createContext(input: ContextInput): ScopedContext {
  const started: StartedPod[] = [];
  const policy = input.policy ?? suitePolicy();
  const secretValue = input.secretValue ?? randomSecret();
  const sidecarName = input.sidecar.manifest.metadata.name;
  const listen = input.sidecar.manifest.spec.proxy?.listen;
  const context: ConformanceContext = {
    sidecar: input.sidecar,
    primary: input.primary,
    runtime: input.runtime.getName(),
    policy: policy.thresholds,
    config: policy.suite,
    signal: input.signal ?? new AbortController().signal,
    secretValue,
    async startPod(options: PodOptions = {}) {
      const { readyTimeoutMs, onCreated } = options;
      const pod = await input.runtime.startPod(podSpecFor({ ...input, secretValue }, options), {
        ...(readyTimeoutMs ? { readyTimeoutMs } : {}),
        ...(onCreated ? { onCreated } : {}),
      });
      started.push(pod);
      return pod;
    },
    entryUrl(pod) {
      const viaSidecar = listen && pod.spec.containers.some((c) => c.name === sidecarName);
      return viaSidecar ? pod.url(sidecarName, listen) : pod.url(PRIMARY_CONTAINER, PRIMARY_HTTP_PORT);
    },
    directUrl(pod) {
      return pod.url(PRIMARY_CONTAINER, PRIMARY_HTTP_PORT);
    },
  };
  return {
    context,
    close: async () => {
      await Promise.all(started.splice(0).map((pod) => pod.stop({ graceMs: TEARDOWN_GRACE_MS })));
    },
  };
}
