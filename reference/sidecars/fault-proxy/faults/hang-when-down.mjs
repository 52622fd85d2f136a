// When restarted, binds its listen port at once but holds every request for 5 s instead
// of refusing connections while it is not ready: clients hang rather than fail fast.
// GET /ready says 503 while it holds (the startup probe waits), and held requests are
// forwarded 200 ms after readiness returns, so the pod serves again within ~5.5 s of a
// crash and no held request reaches the primary before the sidecar is ready again.
export const HOLD_MS = 5_000;
export const RELEASE_AFTER_READY_MS = 200;

export default {
  name: "hang-when-down",
  breaks: "lifecycle.fails-fast-while-down",
  restartAware: true,
  startup(ctx) {
    if (!ctx.isRestart()) return;
    ctx.holdUntilMs = ctx.startedAtMs + ctx.delayMs(HOLD_MS);
    ctx.releaseAfterReadyMs = RELEASE_AFTER_READY_MS;
    ctx.log("holding-requests", { untilMs: ctx.delayMs(HOLD_MS) });
  },
};
