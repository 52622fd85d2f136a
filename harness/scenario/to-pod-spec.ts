// Resolved scenario + variant → the runtime's PodSpec. Templates in commands stay as
// written: ports are only known once the runtime has allocated them.
import type { ContainerSpec, PodSpec, ProbeSpec } from "../runtime/pod-runtime.ts";
import type { LoadedManifest } from "./load-manifest.ts";
import { findVariant, type ResolvedScenario } from "./load-scenario.ts";
import type { PrimaryManifest } from "./primary-schema.ts";
import { randomSecret, wireRoles } from "./role-wiring.ts";
import { PRIMARY_CONTAINER, type SidecarManifest } from "./sidecar-schema.ts";

type ContainerFields = SidecarManifest["spec"] | PrimaryManifest["spec"];
type ManifestProbe = NonNullable<NonNullable<ContainerFields["probes"]>["startup"]>;

function toProbeSpec(probe: ManifestProbe): ProbeSpec {
  const { periodMs, timeoutMs, failureThreshold } = probe;
  // The schema guarantees exactly one action.
  const action: ProbeSpec["action"] =
    probe.http !== undefined
      ? { http: { ...probe.http } }
      : probe.tcp !== undefined
        ? { tcp: { ...probe.tcp } }
        : { exec: { command: [...probe.exec!.command] } };
  return { action, periodMs, timeoutMs, failureThreshold };
}

export function toContainerSpec(name: string, kind: ContainerSpec["kind"], loaded: LoadedManifest<{ spec: ContainerFields }>): ContainerSpec {
  const { container, ports, probes, resources, startupTimeoutMs, volumes } = loaded.manifest.spec;
  const spec: ContainerSpec = {
    name,
    kind,
    command: [...container.command],
    baseDir: loaded.dir,
    ports: { ...ports },
    probes: {
      ...(probes?.startup ? { startup: toProbeSpec(probes.startup) } : {}),
      ...(probes?.readiness ? { readiness: toProbeSpec(probes.readiness) } : {}),
    },
    startupTimeoutMs,
  };
  if (container.env !== undefined) spec.env = { ...container.env };
  if (container.image !== undefined) spec.image = container.image;
  if (resources !== undefined) spec.resources = { ...resources };
  if (volumes !== undefined && volumes.length > 0) spec.volumes = [...volumes];
  return spec;
}

export interface PodSpecOptions {
  /** Defaults to `<scenario>-<variant>`. */
  podName?: string;
  /** CPUs for the pod when the caller pins (see spec.pinning). */
  cpuSet?: number[];
  /** The secret the role backend's store holds for a secrets sidecar (default: random). */
  secretValue?: string;
}

/**
 * The pod of one variant (`baseline` = the primary alone): its sidecars as native
 * sidecars in declared order, then the primary as the main container named `primary`.
 */
export function toPodSpec(resolved: ResolvedScenario, variantName: string, runId: string, options: PodSpecOptions = {}): PodSpec {
  const variant = findVariant(resolved, variantName);
  const pod: PodSpec = {
    name: options.podName ?? `${resolved.manifest.metadata.name}-${variant.name}`,
    runId,
    containers: [
      ...variant.sidecars.map((sidecar) => toContainerSpec(sidecar.manifest.metadata.name, "sidecar", sidecar)),
      toContainerSpec(PRIMARY_CONTAINER, "main", variant.primary),
    ],
    terminationGracePeriodMs: resolved.manifest.spec.terminationGracePeriodMs,
  };
  if (options.cpuSet !== undefined) pod.cpuSet = [...options.cpuSet];
  return wireRoles(pod, variant.sidecars.map((s) => s.manifest), { runId, secretValue: options.secretValue ?? randomSecret() });
}
