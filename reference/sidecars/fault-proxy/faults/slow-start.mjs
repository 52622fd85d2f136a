// A slow cold start: on its first start in a pod it binds nothing for 6 s (as if warming
// a cache); restarts are fast, so only the time-to-ready budget (3000 ms in its
// manifest) is broken, not the restart bounds.
export const COLD_START_MS = 6_000;

export default {
  name: "slow-start",
  breaks: "lifecycle.time-to-ready",
  restartAware: true,
  startup(ctx, plan) {
    if (ctx.isRestart()) return;
    const delayMs = ctx.delayMs(COLD_START_MS);
    plan.adminDelayMs = Math.max(plan.adminDelayMs, delayMs);
    plan.listenDelayMs = Math.max(plan.listenDelayMs, delayMs);
  },
};
