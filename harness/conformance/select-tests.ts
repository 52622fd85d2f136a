// Which conformance tests run against a sidecar: the requested profiles (default: all
// that apply to its roles), in registry order. Tests of features the sidecar does not
// claim stay in the selection: they are reported as not-supported, which a vendor
// needs to see as much as a failure. Tests that cannot apply to what the sidecar is (its
// manifest says it serves no exposition), or need what the primary does not serve (a
// Triton has no /v2/debug/echo), are left out, with the reason.
import { type PrimaryManifest, type SidecarFeature, type SidecarManifest } from "../scenario/index.ts";
import type { ConformanceTest, Profile } from "./conformance-test.ts";
import { ProfileSelectionError, applicableProfiles } from "./profiles.ts";

export interface Selection {
  /** Profiles certified, sorted; each has at least one test in the registry. */
  profiles: Profile[];
  /** Requested (or applicable) profiles for which the registry has no test yet. */
  profilesWithoutTests: Profile[];
  /** Tests to run, in registry order. */
  tests: ConformanceTest[];
  /**
   * Tests of the chosen profiles left out, with why: `sidecar` — the rule cannot apply to what
   * the sidecar is (ConformanceTest.notApplicable); `primary` — it applies, but the certified
   * primary lacks what the check needs (ConformanceTest.primaryServes), so it is unchecked.
   */
  notApplicable: Array<{ id: string; level: ConformanceTest["level"]; reason: string; cause: "sidecar" | "primary" }>;
}

export interface SelectionInput {
  registry: readonly ConformanceTest[];
  sidecar: SidecarManifest;
  /** The primary the sidecar is certified with: a check needing what it does not serve is left out. */
  primary?: PrimaryManifest;
  /** From --profile; undefined or empty = every profile that applies. */
  requested?: readonly Profile[];
}

export function selectTests(input: SelectionInput): Selection {
  const { registry, sidecar } = input;
  const applicable = applicableProfiles(sidecar.spec.roles);
  const requested = input.requested && input.requested.length > 0 ? input.requested : applicable;
  const excluded = requested.filter((p) => !applicable.includes(p));
  if (excluded.length > 0) {
    // Certifying a proxy against the telemetry profile could only fail; say why instead.
    throw new ProfileSelectionError(
      `--profile ${excluded.join(",")}: ${sidecar.metadata.name} does not declare the ${excluded.join(", ")} role ` +
        `(spec.roles: ${sidecar.spec.roles.join(", ")}); profiles that apply: ${applicable.join(", ")}`,
    );
  }
  const chosen = new Set(requested);
  const notApplicable: Selection["notApplicable"] = [];
  const tests = registry.filter((t) => {
    if (!chosen.has(t.profile)) return false;
    const sidecarReason = t.notApplicable?.(sidecar);
    const primaryReason = sidecarReason === undefined && input.primary ? primaryLacks(t, input.primary) : undefined;
    if (sidecarReason !== undefined) notApplicable.push({ id: t.id, level: t.level, reason: sidecarReason, cause: "sidecar" });
    else if (primaryReason !== undefined) notApplicable.push({ id: t.id, level: t.level, reason: primaryReason, cause: "primary" });
    return sidecarReason === undefined && primaryReason === undefined;
  });
  // A profile whose checks the primary cannot serve is still the profile's to report (partial,
  // naming them), not a profile the suite has no tests for.
  const uncheckedByPrimary = new Set(notApplicable.filter((n) => n.cause === "primary").map((n) => registry.find((t) => t.id === n.id)!.profile));
  const covered = new Set([...tests.map((t) => t.profile), ...uncheckedByPrimary]);
  return {
    profiles: applicable.filter((p) => chosen.has(p) && covered.has(p)),
    profilesWithoutTests: applicable.filter((p) => chosen.has(p) && !covered.has(p)),
    tests,
    notApplicable,
  };
}

/** Why `test` cannot run with `primary` (a feature it needs that the primary does not serve), or undefined. */
export function primaryLacks(test: Pick<ConformanceTest, "primaryServes">, primary: PrimaryManifest): string | undefined {
  const missing = (test.primaryServes ?? []).filter((f) => !primary.spec.serves.includes(f));
  if (missing.length === 0) return undefined;
  return `the primary ${primary.metadata.name} does not serve ${missing.join(" nor ")}; certify with --primary fastapi to run it`;
}

/** Features a test needs that the sidecar does not claim (empty = the test applies). */
export function missingFeatures(test: Pick<ConformanceTest, "features">, sidecar: SidecarManifest): SidecarFeature[] {
  const claimed = new Set(sidecar.spec.features ?? []);
  return test.features.filter((f) => !claimed.has(f));
}
