import { describe, expect, it } from "vitest";
import { CONFORMANCE_TESTS } from "../../suites/registry.ts";
import type { ConformanceTest } from "./conformance-test.ts";
import { BOUNDARY_FIXTURES } from "../../suites/support/boundary-fixtures.ts";
import { DOCKER_FIXTURES, KUBERNETES_FIXTURES, ROLE_SUITE_PROFILES, boundaryFixturesFor, checksCollateral, fixtureTestsFor } from "./fixture-plan-runtimes.ts";

describe("fixtureTestsFor", () => {
  it("runs on local every fixture but the role profiles', which their own suites run", () => {
    expect(fixtureTestsFor("local", CONFORMANCE_TESTS)).toEqual(CONFORMANCE_TESTS.filter((t) => !ROLE_SUITE_PROFILES.includes(t.profile)));
    expect(ROLE_SUITE_PROFILES.every((p) => CONFORMANCE_TESTS.some((t) => t.profile === p))).toBe(true);
  });

  it("runs on docker a subset that fails a test of every profile, in registry order", () => {
    const docker = fixtureTestsFor("docker", CONFORMANCE_TESTS);
    expect(docker.map((t) => t.faultyFixture).sort()).toEqual([...DOCKER_FIXTURES].sort());
    expect(new Set(docker.map((t) => t.profile))).toEqual(new Set(CONFORMANCE_TESTS.map((t) => t.profile)));
    expect(docker).toEqual(CONFORMANCE_TESTS.filter((t) => docker.includes(t)));
  });

  it("runs every boundary pair on local and none on docker, and refuses one of a check the registry does not have", () => {
    expect(boundaryFixturesFor("local", BOUNDARY_FIXTURES, CONFORMANCE_TESTS)).toEqual([...BOUNDARY_FIXTURES]);
    expect(boundaryFixturesFor("docker", BOUNDARY_FIXTURES, CONFORMANCE_TESTS)).toEqual([]);
    expect(() => boundaryFixturesFor("local", [{ check: "lifecycle.no-such-check" }], CONFORMANCE_TESTS)).toThrow(/registry does not have: lifecycle\.no-such-check/);
  });

  it("runs on kubernetes one fixture per mechanism the kubelet owns, each against its own check only, covering every profile", () => {
    const kubernetes = fixtureTestsFor("kubernetes", CONFORMANCE_TESTS);
    expect(kubernetes.map((t) => t.faultyFixture).sort()).toEqual([...KUBERNETES_FIXTURES].sort());
    expect(new Set(kubernetes.map((t) => t.profile))).toEqual(new Set(CONFORMANCE_TESTS.map((t) => t.profile)));
    expect(boundaryFixturesFor("kubernetes", BOUNDARY_FIXTURES, CONFORMANCE_TESTS)).toEqual([]);
    const [proxyCheck, roleCheck] = [CONFORMANCE_TESTS.find((t) => t.profile === "proxy")!, CONFORMANCE_TESTS.find((t) => t.profile === "logs")!];
    expect([checksCollateral("local", proxyCheck), checksCollateral("docker", proxyCheck), checksCollateral("kubernetes", proxyCheck)]).toEqual([true, true, false]);
    expect([checksCollateral("local", roleCheck), checksCollateral("docker", roleCheck)]).toEqual([false, false]);
  });

  it("refuses a docker fixture the registry does not know", () => {
    const registry = CONFORMANCE_TESTS.filter((t) => t.faultyFixture !== DOCKER_FIXTURES[0]) as ConformanceTest[];
    expect(() => fixtureTestsFor("docker", registry)).toThrow(/no test of the registry uses: reference\/sidecars\/ignore-sigterm\.yaml/);
  });
});
