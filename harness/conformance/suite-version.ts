// Which suite produced a report: the package version, and a hash of the registry's test
// ids so two reports of the same version but a different set of checks (a local edit, a
// newer suite checkout) are told apart.
import { createHash } from "node:crypto";
import type { ConformanceTest } from "./conformance-test.ts";

export interface SuiteVersion {
  /** package.json version of sidecar-bench. */
  version: string;
  /** sha256 of the registry's ids, sorted and newline-joined: independent of registry order. */
  testsSha256: string;
  testCount: number;
}

export function suiteVersion(version: string, registry: readonly Pick<ConformanceTest, "id">[]): SuiteVersion {
  const ids = registry.map((t) => t.id).sort();
  return { version, testsSha256: createHash("sha256").update(ids.join("\n")).digest("hex"), testCount: ids.length };
}
