// Starts normally, but when restarted (same pod, same ports: see restart-marker.mjs) it
// binds nothing for 12 s: connections are refused (fast), yet the pod does not serve
// again within the 10 s bound after a sidecar crash. 12 s, not more: checks that wait for
// a restarted sidecar to be ready again (15 s) still see it come back.
export const RESTART_DELAY_MS = 12_000;

export default {
  name: "slow-restart",
  breaks: "lifecycle.sidecar-crash-restarts-alone",
  restartAware: true,
  startup(ctx, plan) {
    if (!ctx.isRestart()) return;
    const delayMs = ctx.delayMs(RESTART_DELAY_MS);
    plan.adminDelayMs = Math.max(plan.adminDelayMs, delayMs);
    plan.listenDelayMs = Math.max(plan.listenDelayMs, delayMs);
  },
};
