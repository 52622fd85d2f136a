// When restarted (same pod, same ports: see restart-marker.mjs), opens its admin port and
// answers GET /ready 200 at once, but binds the listen port only 3 s later: the startup
// and readiness probes on /ready pass while nothing forwards. Its first start is honest,
// so a pod is ready only when it really serves and every check that does not restart the
// sidecar is unaffected; after a crash, the runtime reports it started and ready ~3 s
// before it serves.
export const LISTEN_DELAY_MS = 3_000;

export default {
  name: "early-admin",
  breaks: "lifecycle.startup-probe-reflects-readiness",
  restartAware: true,
  startup(ctx, plan) {
    if (!ctx.isRestart()) return;
    plan.listenDelayMs = Math.max(plan.listenDelayMs, ctx.delayMs(LISTEN_DELAY_MS));
    ctx.lyingAdmin = true;
  },
  ready: (ctx, ready) => (ctx.lyingAdmin ? !ctx.draining : ready),
};
