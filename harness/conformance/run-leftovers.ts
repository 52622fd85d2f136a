// Processes a certification must not leave behind: the vitest worker that ran the checks
// may have been killed mid-check with its pods up, and those carry the run id in their
// labels. (Orphans of dead harnesses in general are the runtime's reapOrphans().)
import { listPids } from "../runtime/local/proc-stats.ts";
import { readLabels } from "../runtime/local/run-labels.ts";

/** After the vitest run: a worker killed mid-check (torn down, OOM) leaves its pods behind. */
export function killRunLeftovers(runId: string): string[] {
  return killLabelled((labels) => labels.runId === runId);
}

function killLabelled(matches: (labels: NonNullable<ReturnType<typeof readLabels>>) => boolean): string[] {
  const killed: string[] = [];
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    const labels = readLabels(pid);
    if (labels === null || !matches(labels)) continue;
    try {
      process.kill(pid, "SIGKILL");
      killed.push(`process ${pid} (run ${labels.runId}, ${labels.pod ?? "?"}/${labels.container ?? "?"})`);
    } catch {
      // Exited meanwhile.
    }
  }
  return killed;
}
