// Every repetition count, wait and slack the conformance checks use, in one place, in
// the spirit of Gateway API's TimeoutConfig: the certifying party can override any of
// them (spec.suite of a CertificationPolicy file), and the certificate records the
// values a run used with SUITE_CONFIG_VERSION. The verdicts' thresholds are not here:
// they are the policy's (harness/scenario/policy-schema.ts).
import { z } from "zod";
import { durationMs, positiveInt } from "../scenario/fields.ts";
import { expected } from "../scenario/issue-messages.ts";

/** Bumped whenever a field is added, removed or changes meaning, so two certificates' configs compare. */
export const SUITE_CONFIG_VERSION = 2;

const ratePerSec = z.int({ error: expected("a whole number of requests per second from 1 to 2000") }).min(1).max(2_000);

export const suiteConfigSchema = z
  .strictObject({
    triesPerExpectation: positiveInt
      .default(44)
      .meta({ description: "Independent tries behind each expectation of an exchange-based check: 44 catch a fault on 10% of requests with ≥ 99% probability (1 − 0.9^44 ≥ 0.99)." }),
    podGracePeriodMs: durationMs.default(10_000).meta({ description: "terminationGracePeriod of the pods checks start (and of lifecycle.drains-in-order's stop)." }),
    podStartAllowanceMs: durationMs
      .default(15_000)
      .meta({ description: "lifecycle.time-to-ready waits this long beyond the policy's bound, so a slow sidecar is measured, not only timed out." }),
    restartWatchMs: durationMs.default(15_000).meta({ description: "How long checks wait for a killed sidecar to be reported ready again." }),
    watchRequestTimeoutMs: durationMs.default(1_000).meta({ description: "Timeout of each request sent while watching a sidecar restart." }),
    watchRequestGapMs: durationMs.default(20).meta({ description: "Pause between requests sent while watching a sidecar restart (their time resolution)." }),
    watchAfterReadyMs: durationMs.default(300).meta({ description: "Requests keep going this long after the ready event, so the evidence shows the switch." }),
    failFastWatchMs: durationMs.default(6_000).meta({ description: "lifecycle.fails-fast-while-down watches this long after the kill at most." }),
    statusPollMs: durationMs.default(5).meta({ description: "Container status polling while waiting for a restarted sidecar." }),
    timingSlackMs: durationMs
      .default(150)
      .meta({ description: "Probe round trips and timer jitter on a busy machine, allowed on top of the probe period when comparing a request with the ready event." }),
    requestTimeoutMs: durationMs.default(2_000).meta({ description: "Timeout of single requests of lifecycle and resources checks." }),
    inFlightSettleMs: durationMs.default(300).meta({ description: "Drain checks: time for in-flight requests to reach the primary before the stop." }),
    idleSettleMs: durationMs.default(2_000).meta({ description: "resources.idle-memory: after ready, before sampling (lazy initialisation settles)." }),
    idleSamples: positiveInt.default(5).meta({ description: "resources.idle-memory: samples, of which the median is judged." }),
    idleSampleGapMs: durationMs.default(200).meta({ description: "resources.idle-memory: pause between its memory samples." }),
    loadRatePerSec: ratePerSec
      .default(200)
      .meta({ description: "Open-loop rate of resources.cpu-per-1k-rps and resources.memory-soak-bounded: far below any sane proxy's capacity on 2 cores." }),
    cpuWarmUpMs: durationMs.default(1_000).meta({ description: "resources.cpu-per-1k-rps: load before the measured window (connections open, code paths warm)." }),
    cpuMeasureMs: durationMs.default(5_000).meta({ description: "resources.cpu-per-1k-rps: the measured window of load, whose CPU time is divided by the requests answered in it." }),
    soakWarmUpMs: durationMs.default(3_000).meta({ description: "resources.memory-soak-bounded: load before the window, so buffers and the heap reach their working size." }),
    soakMs: durationMs.default(16_000).meta({ description: "resources.memory-soak-bounded: the soak whose first and last quarters' memory are compared." }),
    memorySampleMs: durationMs.default(250).meta({ description: "resources.memory-soak-bounded: memory sampling interval through the soak." }),
    exchangeTimeoutMs: durationMs.default(5_000).meta({ description: "Timeout of each request of the proxy checks (bodies up to a few MiB)." }),
    largeBodyTimeoutMs: durationMs.default(20_000).meta({ description: "Timeout of each request of proxy.large-bodies (16 MiB and more): generous for 2 × 24 MiB over loopback on a loaded 2-core VM (0.1–0.3 s when healthy)." }),
    streamTimeoutMs: durationMs.default(10_000).meta({ description: "Timeout of each token stream of proxy.streaming-not-buffered." }),
    concurrentDeadlineMs: durationMs.default(20_000).meta({ description: "proxy.concurrent-keep-alive: every connection's requests are answered within this (≈ 1 s when healthy on a 2-core VM)." }),
    keepAliveIdleMs: durationMs
      .default(300)
      .meta({ description: "proxy.keep-alive-reuse: the idle pauses a client connection must survive; short of every idle timeout in use (uvicorn 5 s, Envoy 1 h), so reuse after it is not optional." }),
    roleRequests: positiveInt
      .default(200)
      .meta({ description: "telemetry and logs checks: requests sent through the primary whose metrics, spans or log lines must all arrive." }),
    backendOutageMs: durationMs
      .default(8_000)
      .meta({ description: "telemetry.backend-outage, logs.backend-outage, secrets.store-outage-declared: how long the backend (or store) stays down." }),
    logBurstLines: positiveInt.default(2_000).meta({ description: "logs rotation checks: lines the primary writes in the burst around each rotation." }),
    longLineBytes: positiveInt
      .default(20_480)
      .meta({ description: "logs.long-and-unicode-lines: the long lines' length, past the 16 KiB where many shippers split or cut a line." }),
  })
  .meta({ description: "Repetition counts, waits and slack of the conformance checks (Gateway API's TimeoutConfig in spirit); every field defaults to the suite's value." });

export type SuiteConfig = z.output<typeof suiteConfigSchema>;

export const DEFAULT_SUITE_CONFIG: Readonly<SuiteConfig> = Object.freeze(suiteConfigSchema.parse({}));
