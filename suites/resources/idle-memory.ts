// resources.idle-memory: the sidecar's memory when the pod is ready and idle, within the
// policy's resources.idleMemoryMiB. Every pod pays it, whatever its traffic. The manifest's
// budgets.idleMemoryMiB is a claim, reported against the figure, never judged by it.
import { median } from "../../harness/measure/statistics.ts";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { pause } from "../support/bounded-wait.ts";
import { logTail, sidecarContainer } from "../support/pod-evidence.ts";
import { roundTo } from "../support/memory-series.ts";

const MIB = 1024 * 1024;

export const idleMemory: ConformanceTest = {
  id: "resources.idle-memory",
  description: "The sidecar's memory, idle after ready (the median of the suite config's idleSamples after idleSettleMs), is within the policy's resources.idleMemoryMiB.",
  profile: "resources",
  level: "core",
  features: [],
  faultyFixture: "reference/sidecars/fat-idle.yaml",
  timeoutMs: 60_000,
  detection: observationClaim("1 idle pod, median of 5 memory samples"),
  async run(context): Promise<CheckOutcome> {
    const boundMiB = context.policy.resources.idleMemoryMiB;
    const { idleSettleMs, idleSamples, idleSampleGapMs } = context.config;
    const sidecar = sidecarContainer(context);
    const pod = await context.startPod();
    // Lazy initialisation (thread pools, first GC) settles before sampling.
    await pause(idleSettleMs, context.signal);
    const samplesMiB: number[] = [];
    let source = "";
    for (let i = 0; i < idleSamples; i++) {
      if (i > 0) await pause(idleSampleGapMs, context.signal);
      const stats = await pod.stats(sidecar);
      source = stats.source;
      samplesMiB.push(stats.memoryBytes / MIB);
    }
    const idleMiB = median(samplesMiB);
    const evidence = { boundMiB, idleMiB: roundTo(idleMiB, 2), samplesMiB: samplesMiB.map((m) => roundTo(m, 2)), source, settleMs: idleSettleMs, sidecarLog: logTail(pod, sidecar, 10) };
    const measured = { idleMemoryMiB: roundTo(idleMiB, 2) };
    if (idleMiB > boundMiB) {
      return { verdict: "failed", message: `expected idle memory ≤ the policy's ${boundMiB} MiB; measured ${roundTo(idleMiB, 1)} MiB (${source})`, evidence, measured };
    }
    return { verdict: "passed", message: `idle memory ${roundTo(idleMiB, 1)} MiB (${source}) within the policy's ${boundMiB} MiB`, evidence, measured };
  },
};
