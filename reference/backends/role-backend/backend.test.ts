// The reference backend's pytest suite (real backend subprocesses, real OTLP exporters).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe } from "vitest";
import { nativeSuiteTest, pytestSuite } from "../../native-suite.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

describe("reference backend role-backend", () => {
  // ≈ 60 backend starts of ≈ 0.7 s each: 45–65 s alone on 2 cores, so more than the default 120 s under a loaded CI.
  nativeSuiteTest({ ...pytestSuite("passes its pytest suite", path.join(here, "tests")), timeoutMs: 240_000 });
});
