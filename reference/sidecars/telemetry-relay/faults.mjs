// The telemetry relay's faults: each breaks one rule of the telemetry profile and nothing
// else (reference/sidecars/README.md, "Telemetry sidecars").
import { randomInt } from "node:crypto";

export const FAULT_NAMES = Object.freeze([
  // telemetry.counts-match: every export forwarded twice (spans arrive twice).
  "duplicate-exports",
  // telemetry.counts-match (with --fault-every n: 1 in n exports of each signal): acknowledged, never forwarded.
  "drop-exports",
  // telemetry.exposition-parses: the relay's own metric family split in two, HELP and TYPE repeated.
  "invalid-exposition",
  // telemetry.backend-outage: declares buffer, but throws its queue away whenever a forward fails.
  "lose-queued-when-down",
  // telemetry.backend-outage: while the backend is down, holds --growth-mib-per-s more memory every second, unbounded.
  "unbounded-queue-when-down",
  // telemetry.flush-on-sigterm: exits at once on SIGTERM, whatever is queued.
  "no-flush-on-sigterm",
]);

/**
 * Which exports drop-exports drops: one in every `every` of each signal, from a random phase
 * per signal (logged at start), so that a check with ≥ `every` exports of a signal always
 * sees a loss there and no check can line its exports up with the phase.
 */
export function createDropGate(every, phases = {}) {
  if (!Number.isInteger(every) || every < 1) throw new Error(`--fault-every: expected a whole number ≥ 1, got ${every}`);
  const state = {};
  return {
    every,
    phases: () => Object.fromEntries(Object.entries(state).map(([signal, s]) => [signal, s.phase])),
    /** Whether this export (the next of its signal) is dropped. */
    drops(signal) {
      state[signal] ??= { phase: phases[signal] ?? randomInt(every), seen: 0 };
      const s = state[signal];
      return s.seen++ % every === s.phase;
    },
  };
}

const MIB = 1024 * 1024;
const GROWTH_TICK_MS = 100;

/**
 * unbounded-queue-when-down: while the backend is down, memory grows by `mibPerSecond`
 * (buffers written to, so the pages are resident), as a queue without bound that also keeps
 * every retry's copy would; released once the backend answers again.
 */
export function createOutageGrowth(mibPerSecond, log) {
  const held = [];
  let timer;
  return {
    held,
    onDown() {
      if (timer !== undefined) return;
      timer = setInterval(() => {
        const chunk = Buffer.allocUnsafe(Math.max(1, Math.round((mibPerSecond * MIB * GROWTH_TICK_MS) / 1000)));
        chunk.fill(0x5a);
        held.push(chunk);
      }, GROWTH_TICK_MS);
      log("growing-while-down", { mibPerSecond });
    },
    onUp() {
      clearInterval(timer);
      timer = undefined;
      const mib = held.reduce((sum, chunk) => sum + chunk.length, 0) / MIB;
      held.length = 0;
      log("released", { mib: Math.round(mib) });
    },
  };
}
