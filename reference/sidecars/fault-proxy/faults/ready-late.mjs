// Forwards from the first moment, but reports ready (GET /ready) only 3 s after each
// start: traffic reaches the primary while the sidecar says it is not ready. Its manifest
// gates startup on a tcp probe of the listen port, readiness on /ready.
export const READY_LATE_MS = 3_000;

export default {
  name: "ready-late",
  breaks: "lifecycle.no-traffic-before-ready",
  ready: (ctx, ready) => ready && performance.now() - ctx.startedAtMs >= ctx.delayMs(READY_LATE_MS),
};
