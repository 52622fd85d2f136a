// Processes a certification must not leave or inherit. Both sweeps go by the labels
// every pod process carries (run id, owning harness pid + start time), never by run
// folders or owner files, so a live run of another harness — a test suite with its own
// state root, say — is never touched.
import { listPids } from "../runtime/local/proc-stats.ts";
import { ownerAlive, readLabels } from "../runtime/local/run-labels.ts";

/** After the vitest run: a worker killed mid-check (torn down, OOM) leaves its pods behind. */
export function killRunLeftovers(runId: string): string[] {
  return killLabelled((labels) => labels.runId === runId);
}

/** Before starting: pod processes whose harness died without stopping them. */
export function killOrphanedPods(): string[] {
  return killLabelled((labels) => !ownerAlive(labels.owner));
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
