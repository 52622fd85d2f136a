// The reference primary's pytest suite (real server subprocesses, real tritonclient).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe } from "vitest";
import { nativeSuiteTest, pytestSuite } from "../../native-suite.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

describe("reference primary fastapi-kserve", () => {
  nativeSuiteTest(pytestSuite("passes its pytest suite", path.join(here, "tests")));
});
