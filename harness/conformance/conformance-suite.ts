// The vitest shape of a certification: describe(profile) → it(test id), one fresh
// context per check through runCheck. A verdict that fails the run (exit-rule.ts: failed,
// core or extended) fails the `it` with the message and evidence; passed passes it;
// skipped and not-supported skip it with the reason.
// Every verdict is also appended to verdicts.jsonl, and afterAll writes conformance.yaml
// from them, so a direct vitest run leaves a report too (certify adds performance).
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, it, type TestContext } from "vitest";
import { createRuntime } from "../runtime/create-runtime.ts";
import { assembleReport, readPackageVersion, type PreparedCertification } from "./certification.ts";
import { writeConformanceReport } from "./conformance-writers.ts";
import type { ConformanceTest } from "./conformance-test.ts";
import type { EntryOptions } from "./entry-options.ts";
import { failsTheRun } from "./exit-rule.ts";
import { CertificationInterrupted, runCheck, type PodStartFailureMemo } from "./run-check.ts";
import { VERDICTS_FILE, appendVerdictRecord, readVerdictRecords, type VerdictRecord } from "./verdict-record.ts";
import "./vitest-meta.ts";

/** vitest's own timeout per `it` only backs up runCheck's: room to stop the check's pods after its timeoutMs. */
const TEARDOWN_MARGIN_MS = 60_000;

/** A failed verdict as vitest shows it: message and evidence, no stack (it would point into the harness, not the sidecar). */
export class ConformanceFailure extends Error {
  override name = "ConformanceFailure";
  constructor(record: VerdictRecord) {
    const evidence = record.evidence ? `\nevidence:\n${stringify(record.evidence, { lineWidth: 0 }).trimEnd().replace(/^/gm, "  ")}` : "";
    super(`${record.message}${evidence}`);
    this.stack = `${this.name}: ${this.message}`;
  }
}

export interface SuiteInput {
  options: EntryOptions;
  prepared: PreparedCertification;
  projectRoot: string;
}

export function declareConformanceSuite(input: SuiteInput): void {
  const { options, prepared, projectRoot } = input;
  const { runtime, accounting, commandPath } = createRuntime({ name: options.runtime, workDir: join(options.outDir, "pods"), projectRoot, ...(options.kubernetes ? { kubernetes: options.kubernetes } : {}) });
  const recordsFile = join(options.outDir, VERDICTS_FILE);
  const target = { sidecar: prepared.sidecar, primary: prepared.primary, runtime, runId: options.runId, policy: prepared.policy, secretSeed: options.secretSeed };
  const podStartFailure: PodStartFailureMemo = {};
  // A terminal's Ctrl-C reaches this worker too: stop the running check's pods instead of dying with them up.
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  let interrupted = false;

  beforeAll(() => {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });

  afterAll(async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await runtime.stopAll();
    // certify rewrites these with the performance figures; a direct vitest run keeps them as they are.
    const records = readVerdictRecords(recordsFile, options.runId);
    const { report } = await assembleReport({
      prepared,
      options,
      projectRoot,
      version: readPackageVersion(projectRoot),
      records,
      interrupted,
      performance: { status: "not-measured", reason: "direct vitest run (sidecar-bench certify adds the performance figures)" },
      accounting,
      commandPath,
      runtime,
    });
    writeConformanceReport(report, options.outDir);
  }, TEARDOWN_MARGIN_MS);

  for (const profile of prepared.selection.profiles) {
    describe(profile, () => {
      for (const test of prepared.selection.tests.filter((t) => t.profile === profile)) {
        it(test.id, (ctx) => checkAsVitestTest(test, ctx), test.timeoutMs + TEARDOWN_MARGIN_MS);
      }
    });
  }

  async function checkAsVitestTest(test: ConformanceTest, ctx: TestContext): Promise<void> {
    let record: VerdictRecord;
    try {
      // ctx.signal: vitest cancelled the run (certify's Ctrl-C) or its own timeout struck.
      record = await runCheck({ test, target, podStartFailure, signal: AbortSignal.any([ctx.signal, interrupt.signal]) });
    } catch (error) {
      if (error instanceof CertificationInterrupted) {
        interrupted = true;
        ctx.skip("interrupted: no verdict");
      }
      throw error;
    }
    appendVerdictRecord(recordsFile, record);
    ctx.task.meta.conformance = { verdict: record.verdict, message: record.message, durationMs: record.durationMs };
    if (failsTheRun(record.verdict)) throw new ConformanceFailure(record);
    if (record.verdict !== "passed") ctx.skip(`${record.verdict}: ${record.message}`);
  }
}
