// Which telemetry checks can apply to a sidecar, from its manifest's telemetry section
// (ConformanceTest.notApplicable: a check that cannot apply is left out, not failed,
// skipped or not-supported — those would say the sidecar lacks something it could have).
import type { SidecarManifest } from "../../harness/scenario/index.ts";

/** telemetry.exposition-parses: only a sidecar that serves a Prometheus exposition has one to parse. */
export function servesNoExposition(sidecar: SidecarManifest): string | undefined {
  const telemetry = sidecar.spec.telemetry;
  if (telemetry?.exposition) return undefined;
  return `${sidecar.metadata.name} serves no Prometheus exposition (spec.telemetry.exposition is not declared; it exports ${telemetry?.export ?? "nothing"})`;
}

/**
 * telemetry.flush-on-sigterm: a sidecar whose export is an exposition that Prometheus pulls
 * holds nothing to send: what Prometheus has not scraped when the pod stops is lost with
 * every exporter, by the design of pull-based collection, not by the sidecar's doing.
 */
export function pushesNothing(sidecar: SidecarManifest): string | undefined {
  const telemetry = sidecar.spec.telemetry;
  if (telemetry === undefined || telemetry.export !== "exposition") return undefined;
  return `${sidecar.metadata.name} exports an exposition that Prometheus pulls: it holds nothing to flush on SIGTERM (what is not scraped when a pod stops is lost with any exporter)`;
}
