// The certificate: a versioned document in the spirit of Gateway API's
// ConformanceReport — who was tested (implementation), by what (suite version, runtime,
// environment), and per profile a result with counts and every non-passing test with
// its message — plus the performance figures. Built from verdict records as a pure
// function, with profiles and tests sorted by id, so the same verdicts give the same
// document byte for byte (apart from date, durations and figures).
import type { EnvironmentFingerprint } from "../measure/environment.ts";
import { API_VERSION, type LoadedManifest, type PrimaryManifest, type SidecarFeature, type SidecarManifest } from "../scenario/index.ts";
import type { ConformanceTest, Level, Profile, Verdict } from "./conformance-test.ts";
import type { PerformanceSection } from "./performance.ts";
import type { Selection } from "./select-tests.ts";
import type { SuiteVersion } from "./suite-version.ts";
import type { VerdictRecord } from "./verdict-record.ts";

export const CONFORMANCE_REPORT_KIND = "ConformanceReport";

/**
 * success: every test passed, except extended tests of features the sidecar does not claim;
 * partial: no core test failed, but something did not pass (an extended failure, a skip,
 *   a core test of an unclaimed feature, or tests an interruption left unrun);
 * failure: a core test failed.
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
  /** The worst profile result. */
  result: ProfileResult;
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
  profiles: ProfileReport[];
  /** Profiles that apply but have no test in this suite version yet: not certified. */
  profilesWithoutTests: Profile[];
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
  performance: PerformanceSection;
}

const RESULT_RANK: Record<ProfileResult, number> = { success: 0, partial: 1, failure: 2 };

export function buildConformanceReport(input: ReportInput): ConformanceReport {
  const { sidecar, primary, selection } = input;
  const byId = new Map(input.records.map((r) => [r.id, r]));
  const profiles = [...selection.profiles].sort().map((profile) =>
    profileReport(
      profile,
      selection.tests.filter((t) => t.profile === profile),
      byId,
      new Set(sidecar.manifest.spec.features ?? []),
    ),
  );
  const result = profiles.reduce<ProfileResult>((worst, p) => (RESULT_RANK[p.result] > RESULT_RANK[worst] ? p.result : worst), "success");
  const metadata = sidecar.manifest.metadata;
  return {
    apiVersion: API_VERSION,
    kind: CONFORMANCE_REPORT_KIND,
    runId: input.runId,
    date: input.date,
    status: input.interrupted ? "interrupted" : profiles.some((p) => p.core.notRun + p.extended.notRun > 0) ? "incomplete" : "complete",
    result,
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
    profiles,
    profilesWithoutTests: [...selection.profilesWithoutTests].sort(),
    performance: input.performance,
  };
}

function profileReport(profile: Profile, tests: ConformanceTest[], byId: Map<string, VerdictRecord>, claimed: Set<SidecarFeature>): ProfileReport {
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
    reported.push({ id: test.id, level: test.level, verdict, durationMs: record?.durationMs ?? null, message: record?.message ?? null });
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

/** The exit code's rule: certified unless a core test failed (or the run did not finish). */
export function coreTestsHeld(report: ConformanceReport): boolean {
  return report.status === "complete" && report.profiles.every((p) => p.core.failed === 0);
}
