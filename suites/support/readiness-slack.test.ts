// The slack a manifest's probe periods earn is capped by the certifier's policy: a
// 60 s probe period must not buy 60 s of slack for forwarding before ready.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { suitePolicy } from "../../harness/conformance/certification-policy.ts";
import { loadManifest, type SidecarManifest } from "../../harness/scenario/index.ts";
import { readinessSlackMs } from "./pod-evidence.ts";
import { REPO_ROOT } from "./real-pod-check.ts";

const probing = async (periods: { startup?: number; readiness?: number }): Promise<SidecarManifest> => {
  const { manifest } = await loadManifest(join(REPO_ROOT, "reference/sidecars/good-proxy.yaml"), "Sidecar");
  const probes = manifest.spec.probes!;
  return {
    ...manifest,
    spec: {
      ...manifest.spec,
      probes: {
        ...(periods.startup ? { startup: { ...probes.startup!, periodMs: periods.startup } } : {}),
        ...(periods.readiness ? { readiness: { ...probes.readiness!, periodMs: periods.readiness } } : {}),
      },
    },
  };
};

describe("readinessSlackMs", () => {
  const { thresholds, suite } = suitePolicy();

  it("allows the manifest's longest probe period plus the timing slack", async () => {
    expect(readinessSlackMs(await probing({ startup: 100, readiness: 500 }), thresholds, suite)).toEqual({ probePeriodMs: 500, allowedProbePeriodMs: 500, slackMs: 650 });
    expect(readinessSlackMs(await probing({}), thresholds, suite)).toEqual({ probePeriodMs: 0, allowedProbePeriodMs: 0, slackMs: 150 });
  });

  it("caps what a slow probe period earns at the policy's lifecycle.maxProbeSlackMs", async () => {
    expect(readinessSlackMs(await probing({ startup: 100, readiness: 60_000 }), thresholds, suite)).toEqual({ probePeriodMs: 60_000, allowedProbePeriodMs: 1_000, slackMs: 1_150 });
    const strict = { ...thresholds, lifecycle: { ...thresholds.lifecycle, maxProbeSlackMs: 200 } };
    expect(readinessSlackMs(await probing({ readiness: 500 }), strict, { ...suite, timingSlackMs: 50 })).toEqual({ probePeriodMs: 500, allowedProbePeriodMs: 200, slackMs: 250 });
  });
});
