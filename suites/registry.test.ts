import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { registryProblems } from "../harness/conformance/validate-registry.ts";
import { CONFORMANCE_TESTS, testById, testsOfProfile } from "./registry.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

describe("the conformance registry", () => {
  it("has unique well-formed ids, profiles matching their prefix, and a valid faulty fixture per test", async () => {
    expect(CONFORMANCE_TESTS.length).toBeGreaterThan(0);
    expect(await registryProblems(CONFORMANCE_TESTS, root)).toEqual([]);
  });

  it("covers lifecycle, proxy and resources, and looks tests up by id and profile", () => {
    for (const profile of ["lifecycle", "proxy", "resources"] as const) expect(testsOfProfile(profile).length).toBeGreaterThan(0);
    const first = CONFORMANCE_TESTS[0]!;
    expect(testById(first.id)).toBe(first);
    expect(() => testById("proxy.no-such-test")).toThrow(/no conformance test "proxy\.no-such-test" \(proxy: /);
  });
});
