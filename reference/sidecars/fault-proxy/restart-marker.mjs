// Restart detection for the faults that behave differently when restarted (slow-start,
// slow-restart, hang-when-down). A runtime restarts a container with the same
// environment and the same ports, so the first start of a container leaves a marker file
// keyed by both, and a later start that finds it is a restart.
//
// Key: the local runtime's labels (run id, pod, container: unique per pod, and pods get
// random suffixes) plus the three ports; without labels (run by hand), the parent pid and
// the ports. Directory: $FAULT_STATE_DIR, else <os tmpdir>/sidecar-bench-fault-proxy (a
// volume that outlives the container where a runtime isolates /tmp). Markers older than
// a day are removed on each first start, so the directory does not grow without bound.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

export function markerDir(env = process.env) {
  return env.FAULT_STATE_DIR || join(tmpdir(), "sidecar-bench-fault-proxy");
}

export function markerKey({ listen, admin, upstream }, env = process.env, parentPid = process.ppid) {
  const ports = `${listen}/${admin}/${upstream}`;
  const identity = env.SIDECAR_BENCH_RUN_ID
    ? ["runtime", env.SIDECAR_BENCH_RUN_ID, env.SIDECAR_BENCH_POD ?? "", env.SIDECAR_BENCH_CONTAINER ?? "", ports]
    : ["manual", String(parentPid), ports];
  return createHash("sha256").update(identity.join("\0")).digest("hex").slice(0, 24);
}

/**
 * Records this start; returns whether it is a restart and how many starts the container
 * has had (1 on the first).
 */
export function detectRestart(ports, env = process.env, now = Date.now()) {
  const dir = markerDir(env);
  const file = join(dir, `${markerKey(ports, env)}.json`);
  mkdirSync(dir, { recursive: true });
  let previous = null;
  try {
    previous = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    // No marker (or an unreadable one): a first start.
  }
  if (previous === null) pruneStale(dir, now);
  const starts = (typeof previous?.starts === "number" ? previous.starts : 0) + 1;
  const record = { starts, firstStartedAt: previous?.firstStartedAt ?? now, lastStartedAt: now, pid: process.pid };
  writeFileSync(file, JSON.stringify(record));
  return { restart: previous !== null, starts, marker: file };
}

function pruneStale(dir, now) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    try {
      if (now - statSync(path).mtimeMs > STALE_AFTER_MS) rmSync(path, { force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}
