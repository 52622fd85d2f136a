// The secrets profile: checks every sidecar with the secrets role must pass (docs: README, "What each check tries").
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";

export const secretsTests: ConformanceTest[] = [];
