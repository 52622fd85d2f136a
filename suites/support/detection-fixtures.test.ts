// The detection fixtures are sound data: each is a valid Sidecar manifest naming a check
// of the registry, and the required kinds are covered (the fixture suite runs them).
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadManifest } from "../../harness/scenario/index.ts";
import { CONFORMANCE_TESTS, testById } from "../registry.ts";
import { DETECTION_FIXTURES, LEGITIMATE_VARIANTS } from "./detection-fixtures.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

describe("detection fixtures", () => {
  it("are valid manifests of checks in the registry, none a test's own faulty fixture", async () => {
    const own = new Set(CONFORMANCE_TESTS.map((t) => t.faultyFixture));
    for (const { fixture, check } of DETECTION_FIXTURES) {
      expect(testById(check).detection.basis, `${check} is judged on exchanges`).toBe("exchanges");
      expect(own.has(fixture), fixture).toBe(false);
      await expect(loadManifest(join(root, fixture), "Sidecar")).resolves.toBeDefined();
    }
    for (const variant of LEGITIMATE_VARIANTS) await expect(loadManifest(join(root, variant), "Sidecar")).resolves.toBeDefined();
  });

  it("prove a fraction of requests for json, binary, headers and upstream errors, and at least two request-dependent faults", () => {
    const fraction = DETECTION_FIXTURES.filter((f) => f.kind === "fraction").map((f) => f.check);
    for (const check of ["proxy.json-identical", "proxy.binary-tensors-identical", "proxy.headers-pass-through", "proxy.upstream-errors-preserved"]) expect(fraction).toContain(check);
    expect(DETECTION_FIXTURES.filter((f) => f.kind === "request-dependent").length).toBeGreaterThanOrEqual(2);
  });
});
