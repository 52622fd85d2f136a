// The fixture suite on the local runtime, first half: every faulty fixture (each makes
// exactly its own test fail) and the detection fixtures (a fault on some requests only
// still fails its check). The boundary pairs and the well-behaved sidecars are in
// suites/fixtures-local-calibration.test.ts, so that the two halves share CI's two
// workers (suites/support/fixture-suite.ts).
import { describe } from "vitest";
import { fixtureSuite } from "./support/fixture-suite.ts";

describe("local runtime", () => fixtureSuite("local", undefined, ["faulty", "detection"]));
