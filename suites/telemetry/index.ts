// The telemetry profile: checks every sidecar with the telemetry role must pass (docs: README, "What each check tries").
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";

export const telemetryTests: ConformanceTest[] = [];
