// The lifecycle checks against real pods (local runtime, the reference primary): each
// passes on Envoy and on good-proxy, and fails on its faulty fixture with a message
// that names the problem.
import { describe } from "vitest";
import { describeCheckOnRealPods, describeRegistry } from "../support/check-expectations.ts";
import { drainsInOrder } from "./drains-in-order.ts";
import { drainsOnSigterm } from "./drains-on-sigterm.ts";
import { failsFastWhileDown } from "./fails-fast-while-down.ts";
import { lifecycleTests } from "./index.ts";
import { noTrafficBeforeReady } from "./no-traffic-before-ready.ts";
import { sidecarCrashRestartsAlone } from "./sidecar-crash-restarts-alone.ts";
import { sigtermHonoured } from "./sigterm-honoured.ts";
import { startupProbeReflectsReadiness } from "./startup-probe-reflects-readiness.ts";
import { timeToReady } from "./time-to-ready.ts";

describe("lifecycle registry", () => {
  describeRegistry("lifecycle", lifecycleTests, [
    "lifecycle.no-traffic-before-ready",
    "lifecycle.startup-probe-reflects-readiness",
    "lifecycle.time-to-ready",
    "lifecycle.sidecar-crash-restarts-alone",
    "lifecycle.fails-fast-while-down",
    "lifecycle.drains-in-order",
    "lifecycle.sigterm-honoured",
    "lifecycle.drains-on-sigterm",
  ]);
});

describeCheckOnRealPods(noTrafficBeforeReady, /requests were answered by the primary before the sidecar was ready/);
describeCheckOnRealPods(startupProbeReflectsReadiness, /right after the restarted sidecar was reported ready: 3 of 3 failed.*probes pass before the sidecar serves/);
describeCheckOnRealPods(timeToReady, /within the policy's 5000 ms; it took \d+ ms/);
describeCheckOnRealPods(sidecarCrashRestartsAlone, /no request was answered through the restarted sidecar within 10000 ms/);
describeCheckOnRealPods(failsFastWhileDown, /were held \(first sent \d+ ms after SIGKILL: timeout after/);
describeCheckOnRealPods(drainsInOrder, /in-flight requests were cut.*the sidecar exited on its own/);
describeCheckOnRealPods(sigtermHonoured, /killed at the end of the grace period/);
describeCheckOnRealPods(drainsOnSigterm, /were cut/);
