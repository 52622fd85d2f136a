// The fixture suite on the local runtime: every faulty fixture, the boundary pairs, the
// detection fixtures and the legitimate variants (suites/support/fixture-suite.ts).
import { describe } from "vitest";
import { fixtureSuite } from "./support/fixture-suite.ts";

describe("local runtime", () => fixtureSuite("local"));
