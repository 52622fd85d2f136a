import { describe, expect, it } from "vitest";
import type { PrimaryManifest, SidecarManifest } from "../scenario/index.ts";
import type { ConformanceTest, Profile } from "./conformance-test.ts";
import { observationClaim } from "./detection-claim.ts";
import { ProfileSelectionError, applicableProfiles, parseProfileList } from "./profiles.ts";
import { missingFeatures, selectTests } from "./select-tests.ts";

const check = (id: string, features: ConformanceTest["features"] = []): ConformanceTest => ({
  id,
  description: id,
  profile: id.split(".")[0] as Profile,
  level: "core",
  features,
  faultyFixture: `reference/sidecars/${id}.yaml`,
  timeoutMs: 1_000,
  detection: observationClaim("a fake"),
  run: async () => ({ verdict: "passed", message: "" }),
});

const registry = [check("lifecycle.a"), check("proxy.b", ["streaming"]), check("resources.c"), check("telemetry.d"), check("proxy.e")];

function sidecar(roles: SidecarManifest["spec"]["roles"], features: SidecarManifest["spec"]["features"] = []): SidecarManifest {
  return { metadata: { name: "s" }, spec: { roles, features } } as unknown as SidecarManifest;
}

describe("profiles", () => {
  it("apply lifecycle and resources to every sidecar, and the profiles of its roles", () => {
    expect(applicableProfiles(["proxy"])).toEqual(["lifecycle", "proxy", "resources"]);
    expect(applicableProfiles(["telemetry", "logs"])).toEqual(["lifecycle", "logs", "resources", "telemetry"]);
  });

  it("parse repeated and comma-separated --profile values, sorted and unique", () => {
    expect(parseProfileList(["proxy", "lifecycle, proxy", ""])).toEqual(["lifecycle", "proxy"]);
    expect(() => parseProfileList(["proxy,telemtry"])).toThrow(new ProfileSelectionError('--profile: unknown profile "telemtry" (profiles: lifecycle, logs, proxy, resources, secrets, telemetry)'));
  });
});

describe("selectTests", () => {
  it("leaves out, with the reason, tests that cannot apply to the sidecar", () => {
    const onlyForOthers: ConformanceTest = { ...check("telemetry.x"), notApplicable: (s) => (s.spec.roles.includes("proxy") ? "proxies have no x" : undefined) };
    const selection = selectTests({ registry: [...registry, onlyForOthers], sidecar: sidecar(["proxy", "telemetry"]) });
    expect(selection.tests.map((t) => t.id)).not.toContain("telemetry.x");
    expect(selection.tests.map((t) => t.id)).toContain("telemetry.d");
    expect(selection.notApplicable).toEqual([{ id: "telemetry.x", level: "core", reason: "proxies have no x", cause: "sidecar" }]);
    expect(selectTests({ registry: [...registry, onlyForOthers], sidecar: sidecar(["telemetry"]) }).tests.map((t) => t.id)).toContain("telemetry.x");
  });

  it("by default selects every applicable profile's tests in registry order", () => {
    const selection = selectTests({ registry, sidecar: sidecar(["proxy"]) });
    expect(selection.profiles).toEqual(["lifecycle", "proxy", "resources"]);
    expect(selection.tests.map((t) => t.id)).toEqual(["lifecycle.a", "proxy.b", "resources.c", "proxy.e"]);
    expect(selection.profilesWithoutTests).toEqual([]);
  });

  it("restricts to the requested profiles", () => {
    expect(selectTests({ registry, sidecar: sidecar(["proxy"]), requested: ["proxy"] }).tests.map((t) => t.id)).toEqual(["proxy.b", "proxy.e"]);
  });

  it("refuses a profile of a role the sidecar does not declare, naming its roles", () => {
    expect(() => selectTests({ registry, sidecar: sidecar(["proxy"]), requested: ["telemetry"] })).toThrow(
      "--profile telemetry: s does not declare the telemetry role (spec.roles: proxy); profiles that apply: lifecycle, proxy, resources",
    );
  });

  it("leaves out, with the reason, tests that need what the primary does not serve", () => {
    const echo: ConformanceTest = { ...check("proxy.echo"), primaryServes: ["debug-endpoints"] };
    const primary = (serves: PrimaryManifest["spec"]["serves"]) => ({ metadata: { name: "triton" }, spec: { serves } }) as unknown as PrimaryManifest;
    const without = selectTests({ registry: [...registry, echo], sidecar: sidecar(["proxy"]), primary: primary(["identity-models"]) });
    expect(without.tests.map((t) => t.id)).not.toContain("proxy.echo");
    expect(without.notApplicable).toEqual([{ id: "proxy.echo", level: "core", reason: "the primary triton does not serve debug-endpoints; certify with --primary fastapi to run it", cause: "primary" }]);
    const withIt = selectTests({ registry: [...registry, echo], sidecar: sidecar(["proxy"]), primary: primary(["debug-endpoints"]) });
    expect(withIt.tests.map((t) => t.id)).toContain("proxy.echo");
    expect(withIt.notApplicable).toEqual([]);
  });

  it("keeps a profile whose every check the primary cannot serve, as that profile's, not as one without tests", () => {
    const emits: ConformanceTest = { ...check("telemetry.d"), primaryServes: ["role-emitters"] };
    const triton = { metadata: { name: "triton" }, spec: { serves: ["identity-models"] } } as unknown as PrimaryManifest;
    const selection = selectTests({ registry: [check("lifecycle.a"), emits], sidecar: sidecar(["telemetry"]), primary: triton, requested: ["telemetry"] });
    expect(selection.tests).toEqual([]);
    expect(selection.profiles).toEqual(["telemetry"]);
    expect(selection.profilesWithoutTests).toEqual([]);
    expect(selection.notApplicable.map((n) => [n.id, n.cause])).toEqual([["telemetry.d", "primary"]]);
  });

  it("lists applicable profiles that have no tests yet instead of certifying them vacuously", () => {
    const selection = selectTests({ registry, sidecar: sidecar(["logs"]) });
    expect(selection.profiles).toEqual(["lifecycle", "resources"]);
    expect(selection.profilesWithoutTests).toEqual(["logs"]);
  });

  it("keeps tests of unclaimed features (they become not-supported) and names what is missing", () => {
    expect(missingFeatures(registry[1]!, sidecar(["proxy"], ["binary-tensors"]))).toEqual(["streaming"]);
    expect(missingFeatures(registry[1]!, sidecar(["proxy"], ["streaming"]))).toEqual([]);
  });
});
