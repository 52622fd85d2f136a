// The reference primary's pytest suite (real server subprocesses, real tritonclient).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe } from "vitest";
import { nativeSuiteTest, pytestSuite } from "../../native-suite.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

describe("reference primary fastapi-kserve", () => {
  // ~65 s alone on 2 cores (the role tests start a dozen servers and wait out export
  // timeouts); twice the default leaves room for a loaded machine under `npm test`.
  nativeSuiteTest({ ...pytestSuite("passes its pytest suite", path.join(here, "tests")), timeoutMs: 240_000 });
});
