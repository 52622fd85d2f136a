import { describe, expect, it } from "vitest";
import type { SidecarManifest } from "../scenario/index.ts";
import type { ConformanceTest, Level, Profile } from "./conformance-test.ts";
import { observationClaim } from "./detection-claim.ts";
import { fixturePlan } from "./fixture-plan.ts";

const check = (id: string, level: Level): ConformanceTest => ({
  id,
  description: id,
  profile: id.split(".")[0] as Profile,
  level,
  features: [],
  faultyFixture: `reference/sidecars/${id}.yaml`,
  timeoutMs: 1_000,
  detection: observationClaim("a fake"),
  run: async () => ({ verdict: "passed", message: "" }),
});

const registry = [check("lifecycle.a", "core"), check("proxy.b", "core"), check("proxy.c", "extended"), check("proxy.d", "extended"), check("resources.e", "core"), check("telemetry.f", "core")];
const proxy = { metadata: { name: "p" }, spec: { roles: ["proxy"], features: [] } } as unknown as SidecarManifest;

describe("fixturePlan", () => {
  it("runs the fixture's own test, its profile's core tests and lifecycle's, nothing else", () => {
    expect(fixturePlan(registry[2]!, registry, proxy).map((t) => t.id)).toEqual(["lifecycle.a", "proxy.b", "proxy.c"]);
    expect(fixturePlan(registry[4]!, registry, proxy).map((t) => t.id)).toEqual(["lifecycle.a", "resources.e"]);
    expect(fixturePlan(registry[0]!, registry, proxy).map((t) => t.id)).toEqual(["lifecycle.a"]);
  });

  it("refuses a fixture whose roles exclude its test's profile", () => {
    expect(() => fixturePlan(registry[5]!, registry, proxy)).toThrow(/declares roles proxy, so the telemetry profile does not apply to it/);
  });
});
