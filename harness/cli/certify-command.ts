// `sidecar-bench certify <sidecar.yaml>`: check the inputs (nothing starts on invalid
// input), run the conformance entry through vitest with progress, then the short
// benchmark, and write the certificate: conformance.yaml/json, junit.xml, verdicts.jsonl
// and performance/. Exit codes follow exit-rule.ts (0 when no test failed, 1 when one
// did, 130 when interrupted), 2 on invalid input.
import { newSecretSeed } from "../conformance/check-secrets.ts";
import { removeLeakingReports } from "../conformance/report-secret-scan.ts";
import { join, relative, resolve } from "node:path";
import { shownPath } from "./shown-path.ts";
import { assembleReport, prepareCertification } from "../conformance/certification.ts";
import { CONFORMANCE_FILES, writeConformanceReport } from "../conformance/conformance-writers.ts";
import { DEFAULT_REGISTRY, PRIMARY_MANIFEST, entryEnvironment, unsupportedRuntimeMessage, type EntryOptions } from "../conformance/entry-options.ts";
import { certificationExitCode } from "../conformance/exit-rule.ts";
import { measurePerformance, PERFORMANCE_DIR, type CertifyWorkload, type PerformanceSection } from "../conformance/performance.ts";
import { ProfileSelectionError, parseProfileList } from "../conformance/profiles.ts";
import { killRunLeftovers } from "../conformance/run-leftovers.ts";
import { CONFORMANCE_CONFIG, runConformanceWithVitest } from "../conformance/run-vitest.ts";
import { VERDICTS_FILE, readVerdictRecords } from "../conformance/verdict-record.ts";
import { formatDurationMs, verdictTable } from "../conformance/verdict-table.ts";
import { createRuntime, type KubernetesRequest } from "../runtime/create-runtime.ts";
import { loadScenario, type ScenarioManifestInput } from "../scenario/index.ts";
import { chosenPrimaryFile, newRunId } from "./run-command.ts";
import { onInterrupt } from "./interrupts.ts";
import { UsageError } from "./usage-error.ts";
import { printNextSteps } from "./next-steps.ts";
import { assertLocalSetup, podPrograms } from "./setup-preflight.ts";

export interface CertifyCommandInput {
  sidecarFile: string;
  /** --primary: a reference primary's name or a Primary manifest (default: the FastAPI reference primary). */
  primary?: string;
  /** --workload: a scenario whose workload, sweep and trials the benchmark runs (default: certify's unary infer). */
  workload?: string;
  /** Raw --profile values (repeatable, comma lists). */
  profiles: string[];
  runtime: string;
  out?: string;
  performance: boolean;
  projectRoot: string;
  version: string;
  /** Module exporting CONFORMANCE_TESTS; the default is the suite's registry (tests substitute fakes). */
  registryModule?: string;
  /** --policy: the certifying party's CertificationPolicy file (default: the suite's policy). */
  policyFile?: string;
  /** --kubeconfig, --context, --namespace, --pod-access (runtime kubernetes). */
  kubernetes?: KubernetesRequest;
}

export const JUNIT_FILE = "junit.xml";

export async function certifyCommand(input: CertifyCommandInput): Promise<number> {
  const startMs = performance.now();
  const runtimeProblem = unsupportedRuntimeMessage(input.runtime);
  if (runtimeProblem) throw new UsageError(runtimeProblem);
  const runId = newRunId();
  const options: EntryOptions = {
    sidecarFile: resolve(input.sidecarFile),
    primaryFile: input.primary === undefined ? resolve(input.projectRoot, PRIMARY_MANIFEST) : chosenPrimaryFile(input.primary, input.projectRoot),
    registryModule: resolve(input.registryModule ?? join(input.projectRoot, DEFAULT_REGISTRY)),
    policyFile: input.policyFile === undefined ? null : resolve(input.policyFile),
    outDir: resolve(input.out ?? join(process.cwd(), "reports", runId)),
    profiles: asUsage(() => parseProfileList(input.profiles)),
    runId,
    runtime: input.runtime,
    ...(input.kubernetes ? { kubernetes: input.kubernetes } : {}),
    secretSeed: newSecretSeed(),
  };
  // Before anything starts: a bad --workload scenario is invalid input, named by file and field.
  const workload = input.workload === undefined ? undefined : await certifyWorkload(input.workload);
  const prepared = await prepareCertification(options).catch((error: unknown) => {
    throw error instanceof ProfileSelectionError ? new UsageError(error.message) : error;
  });
  const { sidecar, selection } = prepared;
  if (selection.tests.length === 0) {
    const byPrimary = selection.notApplicable.filter((n) => n.cause === "primary");
    if (byPrimary.length > 0) throw new UsageError(`${relative(process.cwd(), sidecar.file)}: no conformance test of ${selection.profiles.join(", ")} can run: ${byPrimary[0]!.reason} (${byPrimary.map((n) => n.id).join(", ")})`);
    throw new UsageError(`${relative(process.cwd(), sidecar.file)}: no conformance test applies to the profiles ${selection.profilesWithoutTests.join(", ")}`);
  }
  if (input.workload !== undefined && !input.performance) throw new UsageError("--workload names the benchmark's workload; it cannot go with --no-performance");
  assertLocalSetup(options.runtime, podPrograms(prepared.primary, [sidecar]), input.projectRoot, ["certify", sidecar.file]);

  const { runtime, accounting, commandPath } = createRuntime({ name: options.runtime, workDir: join(options.outDir, "pods"), projectRoot: input.projectRoot, ...(options.kubernetes ? { kubernetes: options.kubernetes } : {}) });
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const interrupt = onInterrupt(say, "stopping the running check and its pods (verdicts so far are kept)");
  try {
    const reaped = await runtime.reapOrphans();
    if (reaped.length > 0) say(`reaped ${reaped.length} leftover(s) of harnesses that died: ${reaped.join("; ")}`);
    const name = `${sidecar.manifest.metadata.name}${sidecar.manifest.metadata.version ? ` ${sidecar.manifest.metadata.version}` : ""}`;
    say(`certify ${runId}: ${name} (roles ${sidecar.manifest.spec.roles.join(", ")}) → ${shownPath(options.outDir)}`);
    say(`${selection.tests.length} tests in ${selection.profiles.join(", ")}${selection.profilesWithoutTests.length > 0 ? ` (no tests yet for ${selection.profilesWithoutTests.join(", ")})` : ""}`);

    const run = await runConformanceWithVitest({
      projectRoot: input.projectRoot,
      configFile: join(input.projectRoot, CONFORMANCE_CONFIG),
      env: entryEnvironment(options),
      junitFile: join(options.outDir, JUNIT_FILE),
      onLine: say,
      signal: interrupt.signal,
    });
    const leftovers = killRunLeftovers(runId);
    if (leftovers.length > 0) say(`killed ${leftovers.length} process(es) the conformance run left: ${leftovers.join("; ")}`);
    const records = readVerdictRecords(join(options.outDir, VERDICTS_FILE), runId);
    const interrupted = interrupt.signal.aborted;

    let performanceSection: PerformanceSection = { status: "not-measured", reason: "--no-performance" };
    if (interrupted) performanceSection = { status: "not-measured", reason: "interrupted" };
    else if (input.performance) {
      say(`performance: ${prepared.primary.manifest.metadata.name} alone vs with ${sidecar.manifest.metadata.name} (→ ${shownPath(join(options.outDir, PERFORMANCE_DIR))}/)`);
      performanceSection = await measurePerformance({
        sidecar,
        primary: prepared.primary,
        ...(workload ? { workload } : {}),
        runtime,
        runId,
        outDir: options.outDir,
        harnessVersion: `sidecar-bench ${input.version}`,
        accounting,
        commandPath,
        signal: interrupt.signal,
        onLine: say,
      });
      if (performanceSection.status === "failed") say(`performance: not measured: ${performanceSection.error}`);
    }

    const { report, fingerprintWarning } = await assembleReport({
      prepared,
      options,
      projectRoot: input.projectRoot,
      version: input.version,
      records,
      // Also true when Ctrl-C came during the benchmark: the verdicts are complete, the figures are not.
      interrupted: interrupt.signal.aborted,
      performance: performanceSection,
      accounting,
      commandPath,
      runtime,
    });
    if (fingerprintWarning) say(`warning: ${fingerprintWarning}`);
    writeConformanceReport(report, options.outDir);
    // The checks' secrets must not be in anything certify wrote (its reports, the certificate).
    const leaks = removeLeakingReports(options.outDir, options.secretSeed, selection.tests.map((t) => t.id));
    if (leaks.length > 0) {
      for (const leak of leaks) process.stderr.write(`error: ${leak}\n`);
      process.stderr.write("certify: a report held a secret the checks seeded (a harness defect: evidence is redacted); no certificate is kept\n");
      return 1;
    }
    process.stdout.write(`\n${verdictTable(report)}\n\n`);
    for (const problem of run.problems) process.stderr.write(`error: ${problem}\n`);
    const out = shownPath(options.outDir);
    process.stdout.write(
      `reports: ${out}/ (report.html, ${CONFORMANCE_FILES.yaml}, ${CONFORMANCE_FILES.json}, ${JUNIT_FILE}, ${VERDICTS_FILE}` +
        `${performanceSection.status === "not-measured" ? "" : `, ${PERFORMANCE_DIR}/`}, pods/) in ${formatDurationMs(performance.now() - startMs)}\n`,
    );
    const exitCode = certificationExitCode(report);
    if (report.status === "interrupted") return exitCode;
    if (report.status === "incomplete") {
      process.stderr.write(`certify: ${selection.tests.length - records.length} test(s) reached no verdict (see the errors above)\n`);
      return exitCode;
    }
    process.stdout.write(`result: ${report.result}${report.resultReasons.map((reason) => `\n  - ${reason}`).join("")}\n`);
    printNextSteps("certify", options.outDir);
    return exitCode;
  } finally {
    await runtime.stopAll();
    interrupt.dispose();
  }
}

function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ProfileSelectionError) throw new UsageError(error.message);
    throw error;
  }
}

/** The --workload scenario's workload, sweep and trials; its pods are not used (certify's are the primary and the sidecar). */
async function certifyWorkload(file: string): Promise<CertifyWorkload> {
  const scenario = await loadScenario(resolve(file));
  const spec = scenario.manifest.spec as ScenarioManifestInput["spec"];
  return { file: scenario.file, spec: { workload: spec.workload, trials: spec.trials, ...(spec.sweep ? { sweep: spec.sweep } : {}) } };
}
