// Forwards from the first moment, but reports ready (GET /ready) only 5 s after each
// start: traffic reaches the primary while the sidecar says it is not ready. Its manifest
// gates startup on a tcp probe of the listen port, readiness on /ready. 5 s is well past
// what a kubelet's probing and reporting can explain (its relist, whole-second probes and
// the API: ≈ 3.3 s, StartedPod.readinessReportLagMs), so it fails on every runtime.
export const READY_LATE_MS = 5_000;

export default {
  name: "ready-late",
  breaks: "lifecycle.no-traffic-before-ready",
  ready: (ctx, ready) => ready && performance.now() - ctx.startedAtMs >= ctx.delayMs(READY_LATE_MS),
};
