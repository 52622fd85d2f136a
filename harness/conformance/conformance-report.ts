// The certificate: a versioned document in the spirit of Gateway API's
// ConformanceReport — who was tested (implementation), by what (suite version, runtime,
// environment), and per profile a result with counts and every non-passing test with
// its message and detection claim — plus the policy that decided the verdicts, the
// manifest's claims against what was measured, and the performance figures. Built from
// verdict records as a pure function, with profiles and tests sorted by id, so the same
// verdicts give the same document byte for byte (apart from date, durations and figures).
import type { EnvironmentFingerprint } from "../measure/environment.ts";
import { API_VERSION, type LoadedManifest, type PrimaryManifest, type SidecarFeature, type SidecarManifest } from "../scenario/index.ts";
import type { PolicyRecord } from "./certification-policy.ts";
import { judgeClaims, type ClaimReport } from "./claims.ts";
import type { ConformanceTest, Level, Profile, Verdict } from "./conformance-test.ts";
import { claimUnder, type DetectionClaim } from "./detection-claim.ts";
import type { PerformanceSection } from "./performance.ts";
import type { Selection } from "./select-tests.ts";
import type { SuiteVersion } from "./suite-version.ts";
import type { VerdictRecord } from "./verdict-record.ts";

export const CONFORMANCE_REPORT_KIND = "ConformanceReport";

/**
 * success: every test passed, except extended tests of features the sidecar does not claim;
 * partial: no core test failed, but something did not pass (an extended failure, a skip,
 *   a core test of an unclaimed feature, or tests an interruption left unrun), or a role
 *   the manifest claims has no tests in this suite version (report-level only);
 * failure: a core test failed.
 * Why a result is not success is spelled out in the report's resultReasons.
 */
export type ProfileResult = "success" | "partial" | "failure";

export interface VerdictCounts {
  passed: number;
  failed: number;
  skipped: number;
  notSupported: number;
  /** Tests an interrupted run did not reach. */
  notRun: number;
}

export interface ReportedTest {
  id: string;
  level: Level;
  verdict: Verdict | "not-run";
  durationMs: number | null;
  message: string | null;
  /** What the check tries and the smallest fault fraction it catches, under this run's suite config. */
  detection: DetectionClaim;
}

export interface TestWithMessage {
  id: string;
  level: Level;
  message: string;
  evidence?: Record<string, unknown>;
}

export interface ProfileReport {
  name: Profile;
  result: ProfileResult;
  core: VerdictCounts;
  extended: VerdictCounts;
  failedTests: TestWithMessage[];
  skippedTests: TestWithMessage[];
  notSupportedTests: TestWithMessage[];
  /** Claimed features this profile's tests exercise. */
  supportedFeatures: SidecarFeature[];
  /** Features this profile's tests exercise that the sidecar does not claim. */
  unsupportedFeatures: SidecarFeature[];
  tests: ReportedTest[];
  /** Core tests of this profile not run because the certified primary lacks what they need (the profile is then partial). */
  uncheckedCore?: string[];
}

export interface ConformanceReport {
  apiVersion: typeof API_VERSION;
  kind: typeof CONFORMANCE_REPORT_KIND;
  runId: string;
  date: string;
  /**
   * complete: every selected test has a verdict; interrupted (Ctrl-C) and incomplete (the
   * run broke, e.g. the suite failed to load): the verdicts it reached, the rest not-run.
   */
  status: "complete" | "interrupted" | "incomplete";
  /** The worst profile result; at best partial when a claimed role has no tests. */
  result: ProfileResult;
  /** Why the result is not success, one sentence each (empty for success). */
  resultReasons: string[];
  implementation: {
    name: string;
    vendor: string | null;
    version: string | null;
    description: string | null;
    command: string[];
    image: string | null;
    manifest: { file: string; sha256: string };
    roles: string[];
    features: SidecarFeature[];
  };
  primary: { name: string; version: string | null; manifest: { file: string; sha256: string } };
  suite: SuiteVersion;
  runtime: string;
  environment: EnvironmentFingerprint;
  /** The certifier's policy every threshold-based verdict was judged by, and the suite config the checks ran with. */
  policy: PolicyRecord;
  profiles: ProfileReport[];
  /** Profiles that apply but have no test in this suite version yet: not certified. */
  profilesWithoutTests: Profile[];
  /** Tests of the certified profiles left out because they cannot apply to what the sidecar is (ConformanceTest.notApplicable), with why. */
  notApplicable: Array<{ id: string; reason: string; cause: "sidecar" | "primary" }>;
  /** The manifest's budgets against what was measured; they never change a verdict. */
  claims: ClaimReport[];
  performance: PerformanceSection;
}

export interface ReportInput {
  runId: string;
  date: string;
  interrupted: boolean;
  sidecar: LoadedManifest<SidecarManifest>;
  primary: LoadedManifest<PrimaryManifest>;
  /** Manifest paths as the report shows them (relative to the project, not this machine's home). */
  sidecarFile: string;
  primaryFile: string;
  selection: Selection;
  records: readonly VerdictRecord[];
  suite: SuiteVersion;
  runtime: string;
  environment: EnvironmentFingerprint;
  policy: PolicyRecord;
  performance: PerformanceSection;
}

const RESULT_RANK: Record<ProfileResult, number> = { success: 0, partial: 1, failure: 2 };

export function buildConformanceReport(input: ReportInput): ConformanceReport {
  const { sidecar, primary, selection } = input;
  const byId = new Map(input.records.map((r) => [r.id, r]));
  const uncheckedCore = (profile: Profile) =>
    selection.notApplicable.filter((n) => n.cause === "primary" && n.level === "core" && n.id.startsWith(`${profile}.`)).map((n) => n.id);
  const profiles = [...selection.profiles].sort().map((profile) => {
    const report = profileReport(
      profile,
      selection.tests.filter((t) => t.profile === profile),
      byId,
      new Set(sidecar.manifest.spec.features ?? []),
      input.policy.suiteConfig.values.triesPerExpectation,
    );
    // A core rule left unchecked because the primary lacks what its check needs: not a success.
    const unchecked = uncheckedCore(profile);
    return { ...report, uncheckedCore: unchecked, result: report.result === "success" && unchecked.length > 0 ? ("partial" as const) : report.result };
  });
  const profilesWithoutTests = [...selection.profilesWithoutTests].sort();
  const worst = profiles.reduce<ProfileResult>((w, p) => (RESULT_RANK[p.result] > RESULT_RANK[w] ? p.result : w), "success");
  // A role the sidecar claims but no test checks is not certified, whatever else passed.
  const result = worst === "success" && profilesWithoutTests.length > 0 ? "partial" : worst;
  const status = input.interrupted ? "interrupted" : profiles.some((p) => p.core.notRun + p.extended.notRun > 0) ? "incomplete" : "complete";
  const metadata = sidecar.manifest.metadata;
  return {
    apiVersion: API_VERSION,
    kind: CONFORMANCE_REPORT_KIND,
    runId: input.runId,
    date: input.date,
    status,
    result,
    resultReasons: resultReasons(status, profiles, profilesWithoutTests),
    implementation: {
      name: metadata.name,
      vendor: metadata.vendor ?? null,
      version: metadata.version ?? null,
      description: metadata.description ?? null,
      command: [...sidecar.manifest.spec.container.command],
      image: sidecar.manifest.spec.container.image ?? null,
      manifest: { file: input.sidecarFile, sha256: sidecar.sha256 },
      roles: [...sidecar.manifest.spec.roles].sort(),
      features: [...(sidecar.manifest.spec.features ?? [])].sort(),
    },
    primary: {
      name: primary.manifest.metadata.name,
      version: primary.manifest.metadata.version ?? null,
      manifest: { file: input.primaryFile, sha256: primary.sha256 },
    },
    suite: input.suite,
    runtime: input.runtime,
    environment: input.environment,
    policy: input.policy,
    profiles,
    profilesWithoutTests,
    notApplicable: selection.notApplicable.map(({ id, reason, cause }) => ({ id, reason, cause })).sort((a, b) => a.id.localeCompare(b.id)),
    claims: judgeClaims(sidecar.manifest, input.records, input.performance),
    performance: input.performance,
  };
}

function profileReport(profile: Profile, tests: ConformanceTest[], byId: Map<string, VerdictRecord>, claimed: Set<SidecarFeature>, triesPerExpectation: number): ProfileReport {
  const sorted = [...tests].sort((a, b) => a.id.localeCompare(b.id));
  const counts = { core: emptyCounts(), extended: emptyCounts() };
  const failedTests: TestWithMessage[] = [];
  const skippedTests: TestWithMessage[] = [];
  const notSupportedTests: TestWithMessage[] = [];
  const reported: ReportedTest[] = [];
  for (const test of sorted) {
    const record = byId.get(test.id);
    const verdict = record?.verdict ?? "not-run";
    counts[test.level][COUNT_KEY[verdict]]++;
    reported.push({
      id: test.id,
      level: test.level,
      verdict,
      durationMs: record?.durationMs ?? null,
      message: record?.message ?? null,
      detection: claimUnder(test.detection, triesPerExpectation),
    });
    if (!record) continue;
    const entry: TestWithMessage = { id: test.id, level: test.level, message: record.message, ...(record.evidence ? { evidence: record.evidence } : {}) };
    if (verdict === "failed") failedTests.push(entry);
    else if (verdict === "skipped") skippedTests.push(entry);
    else if (verdict === "not-supported") notSupportedTests.push(entry);
  }
  const exercised = [...new Set(sorted.flatMap((t) => t.features))].sort();
  return {
    name: profile,
    result: profileResult(counts.core, counts.extended),
    core: counts.core,
    extended: counts.extended,
    failedTests,
    skippedTests,
    notSupportedTests,
    supportedFeatures: exercised.filter((f) => claimed.has(f)),
    unsupportedFeatures: exercised.filter((f) => !claimed.has(f)),
    tests: reported,
  };
}

const COUNT_KEY: Record<ReportedTest["verdict"], keyof VerdictCounts> = {
  passed: "passed",
  failed: "failed",
  skipped: "skipped",
  "not-supported": "notSupported",
  "not-run": "notRun",
};

function emptyCounts(): VerdictCounts {
  return { passed: 0, failed: 0, skipped: 0, notSupported: 0, notRun: 0 };
}

export function profileResult(core: VerdictCounts, extended: VerdictCounts): ProfileResult {
  if (core.failed > 0) return "failure";
  const incomplete = core.skipped + core.notSupported + core.notRun + extended.failed + extended.skipped + extended.notRun;
  return incomplete > 0 ? "partial" : "success";
}

function ids(tests: readonly ReportedTest[], level: Level, verdict: ReportedTest["verdict"]): string[] {
  return tests.filter((t) => t.level === level && t.verdict === verdict).map((t) => t.id);
}

/** Every reason the result is not success, in profile order. */
function resultReasons(status: ConformanceReport["status"], profiles: readonly ProfileReport[], profilesWithoutTests: readonly Profile[]): string[] {
  const reasons: string[] = [];
  if (status !== "complete") reasons.push(`the run is ${status}: tests without a verdict count as not run`);
  for (const p of profiles) {
    const listed: Array<[string, string[]]> = [
      ["core tests failed", ids(p.tests, "core", "failed")],
      ["extended tests failed", ids(p.tests, "extended", "failed")],
      ["core tests were skipped", ids(p.tests, "core", "skipped")],
      ["extended tests were skipped", ids(p.tests, "extended", "skipped")],
      ["core tests need features the sidecar does not claim", ids(p.tests, "core", "not-supported")],
      ["tests were not run", [...ids(p.tests, "core", "not-run"), ...ids(p.tests, "extended", "not-run")]],
      ["core tests need what the primary does not serve (unchecked)", p.uncheckedCore ?? []],
    ];
    for (const [what, which] of listed) if (which.length > 0) reasons.push(`${p.name}: ${what}: ${which.join(", ")}`);
  }
  for (const profile of profilesWithoutTests) reasons.push(`${profile}: the manifest claims this role, but this suite version has no tests for it (not certified)`);
  return reasons;
}
