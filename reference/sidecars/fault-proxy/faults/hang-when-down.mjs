// When restarted, binds its listen port at once but holds every request until 5 s after
// its start (--delay-ms sets that) instead of refusing connections while it is not ready:
// clients hang rather than fail fast. GET /ready says 503 until 200 ms before the held
// requests are forwarded (the startup probe waits), so the pod serves again within ~5.3 s
// of a crash and no held request reaches the primary before the sidecar is ready again.
// A request sent right after the restart is held about the whole delay.
export const HOLD_MS = 5_000;
export const RELEASE_AFTER_READY_MS = 200;

export default {
  name: "hang-when-down",
  breaks: "lifecycle.fails-fast-while-down",
  restartAware: true,
  startup(ctx) {
    if (!ctx.isRestart()) return;
    const holdMs = ctx.delayMs(HOLD_MS);
    ctx.holdUntilMs = ctx.startedAtMs + Math.max(0, holdMs - RELEASE_AFTER_READY_MS);
    ctx.releaseAfterReadyMs = Math.min(holdMs, RELEASE_AFTER_READY_MS);
    ctx.log("holding-requests", { untilMs: holdMs });
  },
};
