// The lifecycle profile: checks every sidecar must pass, whatever its role. Stable order:
// start-up, then crashes, then stop — the order a pod lives through them.
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { drainsInOrder } from "./drains-in-order.ts";
import { drainsOnSigterm } from "./drains-on-sigterm.ts";
import { failsFastWhileDown } from "./fails-fast-while-down.ts";
import { noTrafficBeforeReady } from "./no-traffic-before-ready.ts";
import { sidecarCrashRestartsAlone } from "./sidecar-crash-restarts-alone.ts";
import { sigtermHonoured } from "./sigterm-honoured.ts";
import { startupProbeReflectsReadiness } from "./startup-probe-reflects-readiness.ts";
import { timeToReady } from "./time-to-ready.ts";

export const lifecycleTests: ConformanceTest[] = [
  noTrafficBeforeReady,
  startupProbeReflectsReadiness,
  timeToReady,
  sidecarCrashRestartsAlone,
  failsFastWhileDown,
  drainsInOrder,
  sigtermHonoured,
  drainsOnSigterm,
];
