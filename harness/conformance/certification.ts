// What both ways of certifying share (the `certify` command and a direct vitest run of
// suites/conformance.test.ts): load and check the inputs before anything starts, and
// turn verdicts into the report.
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { importMaybeTypeScript } from "../typescript-import.ts";
import { fingerprintEnvironment, withRuntimeDescription, type EnvironmentFingerprint } from "../measure/environment.ts";
import { describeRuntime } from "../runtime/create-runtime.ts";
import type { PodRuntime } from "../runtime/pod-runtime.ts";
import { loadManifest, type LoadedManifest, type PrimaryManifest, type SidecarManifest } from "../scenario/index.ts";
import { loadPolicy, policyRecord, type EffectivePolicy } from "./certification-policy.ts";
import { buildConformanceReport, type ConformanceReport } from "./conformance-report.ts";
import type { ConformanceTest } from "./conformance-test.ts";
import type { EntryOptions } from "./entry-options.ts";
import type { PerformanceSection } from "./performance.ts";
import { selectTests, type Selection } from "./select-tests.ts";
import { suiteVersion } from "./suite-version.ts";
import type { VerdictRecord } from "./verdict-record.ts";

export interface PreparedCertification {
  sidecar: LoadedManifest<SidecarManifest>;
  primary: LoadedManifest<PrimaryManifest>;
  registry: ConformanceTest[];
  selection: Selection;
  /** What the verdicts are judged by: the certifier's policy file, or the suite's defaults. */
  policy: EffectivePolicy;
}

/** The registry is a module exporting CONFORMANCE_TESTS; loaded by path so tests can substitute fakes. */
export async function loadRegistry(modulePath: string): Promise<ConformanceTest[]> {
  const module = (await importMaybeTypeScript(modulePath)) as { CONFORMANCE_TESTS?: unknown };
  if (!Array.isArray(module.CONFORMANCE_TESTS)) throw new Error(`${modulePath}: expected an exported array CONFORMANCE_TESTS`);
  return module.CONFORMANCE_TESTS as ConformanceTest[];
}

/** Throws ManifestError (file:line) or ProfileSelectionError before any pod starts. */
export async function prepareCertification(options: EntryOptions): Promise<PreparedCertification> {
  const sidecar = await loadManifest(options.sidecarFile, "Sidecar");
  const primary = await loadManifest(options.primaryFile, "Primary");
  const policy = await loadPolicy(options.policyFile);
  const registry = await loadRegistry(options.registryModule);
  const selection = selectTests({ registry, sidecar: sidecar.manifest, primary: primary.manifest, requested: options.profiles });
  return { sidecar, primary, registry, selection, policy };
}

export function readPackageVersion(projectRoot: string): string {
  return (JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { version: string }).version;
}

export interface AssembleInput {
  prepared: PreparedCertification;
  options: EntryOptions;
  projectRoot: string;
  version: string;
  records: readonly VerdictRecord[];
  interrupted: boolean;
  performance: PerformanceSection;
  accounting: string;
  /** PATH the pods' commands resolve on (versions in the fingerprint come from it). */
  commandPath: string;
  /** The runtime the checks' pods ran on: its engine version and image ids join the fingerprint. */
  runtime: PodRuntime;
}

export interface AssembledReport {
  report: ConformanceReport;
  /** Why the runtime could not describe itself for the fingerprint, if it could not (a warning, not a failure). */
  fingerprintWarning: string | null;
}

export async function assembleReport(input: AssembleInput): Promise<AssembledReport> {
  const { prepared, options } = input;
  // The checks' pods may have run in another process (certify's vitest worker): name the manifests' images.
  const declaredImages = [prepared.sidecar.manifest.spec.container.image, prepared.primary.manifest.spec.container.image].filter(
    (image): image is string => image !== undefined,
  );
  const described = await withRuntimeDescription(baseFingerprint(input), () => describeRuntime(input.runtime, declaredImages));
  const environment: EnvironmentFingerprint = described.fingerprint;
  const report = buildConformanceReport({
    runId: options.runId,
    date: new Date().toISOString(),
    interrupted: input.interrupted,
    sidecar: prepared.sidecar,
    primary: prepared.primary,
    sidecarFile: projectPath(input.projectRoot, prepared.sidecar.file),
    primaryFile: projectPath(input.projectRoot, prepared.primary.file),
    selection: prepared.selection,
    records: input.records,
    suite: suiteVersion(input.version, prepared.registry),
    runtime: options.runtime,
    environment,
    policy: policyRecord(prepared.policy, input.projectRoot),
    performance: input.performance,
  });
  return { report, fingerprintWarning: described.error };
}

function baseFingerprint(input: AssembleInput): EnvironmentFingerprint {
  const measured = input.performance.status === "measured" ? input.performance : null;
  return fingerprintEnvironment({
    scenarioSha256: input.prepared.sidecar.sha256,
    runtime: input.options.runtime,
    accounting: input.accounting,
    pinning: measured?.pinning ?? "none (conformance checks run unpinned)",
    harnessVersion: `sidecar-bench ${input.version}`,
    loadGenerator: measured ? measured.loadGenerator : "none (conformance checks only)",
    path: input.commandPath,
  });
}

/** Inside the project: relative to it; elsewhere (a vendor's checkout): absolute. */
function projectPath(projectRoot: string, file: string): string {
  const rel = relative(projectRoot, file);
  return rel.startsWith("..") ? file : rel;
}
