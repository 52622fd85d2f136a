// The logs profile: checks every sidecar with the logs role must pass (docs: README, "What each check tries").
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";

export const logsTests: ConformanceTest[] = [];
