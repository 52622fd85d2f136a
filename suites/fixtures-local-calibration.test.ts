// The fixture suite on the local runtime, second half: the boundary pairs (each
// threshold-based check passes just inside its threshold and fails just past it) and the
// well-behaved sidecars and legitimate variants (they pass every test of their profiles).
// The faulty and detection fixtures are in suites/fixtures-local.test.ts
// (suites/support/fixture-suite.ts says why two files).
import { describe } from "vitest";
import { fixtureSuite } from "./support/fixture-suite.ts";

describe("local runtime", () => fixtureSuite("local", undefined, ["boundary", "well-behaved"]));
