// resources.idle-memory: the sidecar's memory when the pod is ready and idle, within the
// manifest's budgets.idleMemoryMiB. Every pod pays it, whatever its traffic.
import { median } from "../../harness/measure/statistics.ts";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { pause } from "../support/bounded-wait.ts";
import { logTail, sidecarContainer } from "../support/pod-evidence.ts";
import { roundTo } from "../support/memory-series.ts";

/** After ready, before sampling: lazy initialisation (thread pools, first GC) settles. */
const SETTLE_MS = 2_000;
const SAMPLES = 5;
const SAMPLE_GAP_MS = 200;
const MIB = 1024 * 1024;

export const idleMemory: ConformanceTest = {
  id: "resources.idle-memory",
  description: `The sidecar's memory, idle after ready (median of ${SAMPLES} samples after ${SETTLE_MS} ms), is within budgets.idleMemoryMiB.`,
  profile: "resources",
  level: "core",
  features: [],
  faultyFixture: "reference/sidecars/fat-idle.yaml",
  timeoutMs: 60_000,
  detection: observationClaim("1 idle pod, median of 5 memory samples"),
  async run(context): Promise<CheckOutcome> {
    const budgetMiB = context.sidecar.manifest.spec.budgets?.idleMemoryMiB;
    if (budgetMiB === undefined) return { verdict: "skipped", message: "the manifest declares no budgets.idleMemoryMiB" };
    const sidecar = sidecarContainer(context);
    const pod = await context.startPod();
    await pause(SETTLE_MS, context.signal);
    const samplesMiB: number[] = [];
    let source = "";
    for (let i = 0; i < SAMPLES; i++) {
      if (i > 0) await pause(SAMPLE_GAP_MS, context.signal);
      const stats = await pod.stats(sidecar);
      source = stats.source;
      samplesMiB.push(stats.memoryBytes / MIB);
    }
    const idleMiB = median(samplesMiB);
    const evidence = { budgetMiB, idleMiB: roundTo(idleMiB, 2), samplesMiB: samplesMiB.map((m) => roundTo(m, 2)), source, settleMs: SETTLE_MS, sidecarLog: logTail(pod, sidecar, 10) };
    if (idleMiB > budgetMiB) {
      return { verdict: "failed", message: `expected idle memory ≤ budgets.idleMemoryMiB ${budgetMiB} MiB; measured ${roundTo(idleMiB, 1)} MiB (${source})`, evidence };
    }
    return { verdict: "passed", message: `idle memory ${roundTo(idleMiB, 1)} MiB (${source}) within budgets.idleMemoryMiB ${budgetMiB} MiB`, evidence };
  },
};
