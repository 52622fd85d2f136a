// The reference backend's pytest suite (real backend subprocesses, real OTLP exporters).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe } from "vitest";
import { nativeSuiteTest, pytestSuite } from "../../native-suite.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

describe("reference backend role-backend", () => {
  nativeSuiteTest(pytestSuite("passes its pytest suite", path.join(here, "tests")));
});
