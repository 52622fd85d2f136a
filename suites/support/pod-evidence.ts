// Evidence a lifecycle or resource verdict shows: the pod's events in order, container
// status, and the last log lines of the sidecar and the primary.
import type { ConformanceContext } from "../../harness/conformance/conformance-test.ts";
import type { ContainerStatus, PodEvent, StartedPod } from "../../harness/runtime/pod-runtime.ts";
import type { SuiteConfig } from "../../harness/conformance/suite-config.ts";
import { PRIMARY_CONTAINER, type PolicyThresholds, type SidecarManifest } from "../../harness/scenario/index.ts";

/** The sidecar's container name in the pods the context starts. */
export function sidecarContainer(context: ConformanceContext): string {
  return context.sidecar.manifest.metadata.name;
}

export function containerStatus(pod: StartedPod, container: string): ContainerStatus {
  const status = pod.status().find((c) => c.name === container);
  if (!status) throw new Error(`pod ${pod.spec.name} has no container "${container}"`);
  return status;
}

/** "812.3 ms envoy ready (GET /ready → 200)", one line per event. */
export function formatEvents(events: readonly PodEvent[]): string[] {
  return events.map((e) => `${e.atMs.toFixed(1)} ms ${e.container} ${e.type}${e.detail ? ` (${e.detail})` : ""}`);
}

/** The last lines a container wrote; [] when the runtime has none to give. */
export function logTail(pod: StartedPod, container: string, maxLines = 15): string[] {
  try {
    return pod.logs(container, maxLines);
  } catch {
    return [];
  }
}

/** Events and the last log lines of the sidecar and the primary. */
export function podEvidence(pod: StartedPod, sidecar: string, maxLines = 15): Record<string, unknown> {
  return {
    events: formatEvents(pod.events()),
    sidecarLog: logTail(pod, sidecar, maxLines),
    primaryLog: logTail(pod, PRIMARY_CONTAINER, maxLines),
  };
}

export interface ReadinessSlack {
  /** The manifest's longest probe period: how late the runtime can notice the sidecar ready. */
  probePeriodMs: number;
  /** The share of it the policy allows (lifecycle.maxProbeSlackMs caps it). */
  allowedProbePeriodMs: number;
  /** The runtime's own lag in reporting readiness beyond the manifest's periods (StartedPod.readinessReportLagMs), when it has one. */
  runtimeReportLagMs?: number;
  /** The larger of allowedProbePeriodMs and runtimeReportLagMs, + the suite config's timingSlackMs. */
  slackMs: number;
}

/**
 * How much earlier than the runtime's "ready" event a check may see the sidecar serve:
 * the runtime polls the startup probe, then the readiness probe, each every periodMs, so
 * it can notice readiness up to a period late — the runtime's delay, not the sidecar's.
 * The policy caps what a manifest's periods earn: a 60 s probe period must not buy 60 s.
 */
export function readinessSlackMs(sidecar: SidecarManifest, policy: Readonly<PolicyThresholds>, config: Readonly<SuiteConfig>, runtimeReportLagMs = 0): ReadinessSlack {
  const probes = sidecar.spec.probes;
  const probePeriodMs = Math.max(probes?.startup?.periodMs ?? 0, probes?.readiness?.periodMs ?? 0);
  const allowedProbePeriodMs = Math.min(probePeriodMs, policy.lifecycle.maxProbeSlackMs);
  // The runtime's lag is not the manifest's choice (the kubelet probes at whole seconds): the cap does not apply to it.
  return {
    probePeriodMs,
    allowedProbePeriodMs,
    ...(runtimeReportLagMs > 0 ? { runtimeReportLagMs } : {}),
    slackMs: Math.max(allowedProbePeriodMs, runtimeReportLagMs) + config.timingSlackMs,
  };
}
