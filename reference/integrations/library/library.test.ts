// The pytest suite of request-guard-sdk and server_with_sdk (in-process and real servers).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe } from "vitest";
import { nativeSuiteTest, pytestSuite } from "../../native-suite.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

describe("library integration request-guard-sdk", () => {
  nativeSuiteTest(pytestSuite("passes its pytest suite", path.join(here, "tests")));
});
