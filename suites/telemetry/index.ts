// The telemetry profile: checks every sidecar with the telemetry role must pass (docs: README, "What each check tries").
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { backendOutage } from "./backend-outage.ts";
import { countsMatch } from "./counts-match.ts";
import { expositionParses } from "./exposition-parses.ts";
import { flushOnSigterm } from "./flush-on-sigterm.ts";

export const telemetryTests: ConformanceTest[] = [countsMatch, expositionParses, backendOutage, flushOnSigterm];
