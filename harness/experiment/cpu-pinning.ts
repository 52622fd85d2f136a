// Pinning on small machines (DESIGN rule 10): the load generator and the pod compete
// for CPUs, so by default the harness runs on CPU 0 and the pod on the others.
import { execFileSync } from "node:child_process";
import { cpus } from "node:os";

export interface PinningPlan {
  mode: "split" | "none";
  loadGeneratorCpus: number[];
  podCpus: number[] | undefined;
  /** Said in the report: what was done, or why not. */
  description: string;
}

/**
 * The machine's CPUs, not this process's affinity: a harness already pinned to CPU 0
 * (compare pins itself before its overhead phase) must still place pods on the others.
 */
export function machineCpuCount(): number {
  return cpus().length;
}

export function planPinning(mode: "split" | "none", cpuCount = machineCpuCount()): PinningPlan {
  if (mode === "none") return { mode, loadGeneratorCpus: [], podCpus: undefined, description: "no pinning (requested)" };
  if (cpuCount < 2) return { mode: "none", loadGeneratorCpus: [], podCpus: undefined, description: "no pinning: only one CPU" };
  const podCpus = Array.from({ length: cpuCount - 1 }, (_, i) => i + 1);
  return {
    mode,
    loadGeneratorCpus: [0],
    podCpus,
    description: `load generator (harness) pinned to CPU 0, pod processes to CPU ${podCpus.join(",")} (taskset)`,
  };
}

/** Pins every thread of this process. Returns an error text instead of throwing: pinning is best effort. */
export function pinSelf(cpus: number[]): string | null {
  if (cpus.length === 0) return null;
  try {
    execFileSync("taskset", ["-a", "-p", "-c", cpus.join(","), String(process.pid)], { stdio: "ignore", timeout: 5_000 });
    return null;
  } catch (error) {
    return `could not pin the harness: ${(error as Error).message}`;
  }
}
