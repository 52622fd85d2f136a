// `sidecar-bench diff <base> <head>`: the CI gate. Reads two results.json (or two
// certificates, or the folders holding them), prints the Markdown verdict, writes the
// requested files, and returns the exit code: 0 no regression, 1 regression, 2
// incomparable inputs. Anything else that goes wrong (an input malformed past its kind, an
// unreadable file beside a certificate, a file that cannot be written) is a UsageError,
// exit 2: exit 1 must only ever mean a regression.
import { existsSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { CONFORMANCE_REPORT_KIND, type ConformanceReport } from "../conformance/conformance-report.ts";
import { writeFileAtomic } from "../report/atomic-write.ts";
import { checkRelativeDir } from "../report/relative-dir.ts";
import { RESULTS_KIND, type Results } from "../report/results-model.ts";
import { readJsonFile } from "../cli/read-json-file.ts";
import { UsageError } from "../cli/usage-error.ts";
import { diffCertificates, type CertificateInput } from "./diff-certificates.ts";
import { conclude, type DiffReport, type RunRef } from "./diff-model.ts";
import { diffRuns } from "./diff-results.ts";
import { diffJson, diffJunit, diffMarkdown } from "./diff-writers.ts";
import { certificateShapeError, resultsShapeError } from "./input-shape.ts";
import { DEFAULT_TOLERANCE, parseTolerance } from "./tolerance.ts";

export interface DiffCommandInput {
  base: string;
  head: string;
  tolerance?: string;
  markdownFile?: string;
  jsonFile?: string;
  junitFile?: string;
}

type Loaded = { kind: "results"; file: string; value: Results } | { kind: "certificate"; file: string; value: ConformanceReport };

export function diffCommand(input: DiffCommandInput): number {
  try {
    return runDiff(input);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const e = error as Error;
    throw new UsageError(`diff ${input.base} ${input.head}: the inputs could not be compared (${e.name}: ${e.message}): one of them is not a results.json or conformance.json as sidecar-bench writes it (exit 2: bad input, not a regression)`);
  }
}

function runDiff(input: DiffCommandInput): number {
  const toleranceText = input.tolerance ?? DEFAULT_TOLERANCE;
  const tolerance = parseTolerance(toleranceText);
  if (!tolerance) throw new UsageError(`--tolerance: expected a share of the base overhead like 10% or a latency like 250us or 0.5ms, found "${toleranceText}"`);
  const base = load(input.base, "base");
  const head = load(input.head, "head");
  const report = diffLoaded(base, head, tolerance, toleranceText);
  const markdown = diffMarkdown(report);
  process.stdout.write(markdown);
  for (const [flag, file, text] of [["--markdown", input.markdownFile, () => markdown], ["--json", input.jsonFile, () => diffJson(report)], ["--junit", input.junitFile, () => diffJunit(report)]] as const) {
    if (!file) continue;
    try {
      writeFileAtomic(resolve(file), text());
    } catch (error) {
      throw new UsageError(`${flag} ${file}: cannot write (${(error as Error).message})`);
    }
  }
  return report.exitCode;
}

export function diffLoaded(base: Loaded, head: Loaded, tolerance: NonNullable<ReturnType<typeof parseTolerance>>, toleranceText: string): DiffReport {
  const refs = { base: ref(base), head: ref(head), tolerance: toleranceText };
  if (base.kind !== head.kind) {
    return conclude({ ...refs, incomparable: [{ field: "kind", message: `kind differs: base is a ${base.kind === "results" ? "run's results.json" : "certificate"}, head a ${head.kind === "results" ? "run's results.json" : "certificate"}` }], metrics: [], warnings: [] });
  }
  if (base.kind === "results" && head.kind === "results") return conclude({ ...refs, ...diffRuns(base.value, head.value, tolerance) });
  return conclude({ ...refs, ...diffCertificates(certificate(base as Extract<Loaded, { kind: "certificate" }>), certificate(head as Extract<Loaded, { kind: "certificate" }>), tolerance) });
}

function ref(loaded: Loaded): RunRef {
  const file = relative(process.cwd(), loaded.file) || loaded.file;
  return loaded.kind === "results"
    ? { file, kind: "results", runId: loaded.value.runId, date: loaded.value.startedAt }
    : { file, kind: "certificate", runId: loaded.value.runId, date: loaded.value.date };
}

/** A file, or a report folder holding results.json or conformance.json. */
export function load(path: string, which: "base" | "head"): Loaded {
  let file = resolve(path);
  if (!existsSync(file)) throw new UsageError(`${which}: ${path}: no such file (expected a results.json, a conformance.json or the report folder holding one)`);
  if (statSync(file).isDirectory()) {
    const found = ["results.json", "conformance.json"].map((name) => join(file, name)).find((candidate) => existsSync(candidate));
    if (!found) throw new UsageError(`${which}: ${path}: the folder has neither results.json nor conformance.json`);
    file = found;
  }
  const value = readJsonFile(file, `${which}: ${path}`, "expected a results.json or a conformance.json");
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (kind === RESULTS_KIND) return { kind: "results", file, value: checked(value, resultsShapeError, `${which}: ${file}`) as Results };
  if (kind === CONFORMANCE_REPORT_KIND) return { kind: "certificate", file, value: checked(value, certificateShapeError, `${which}: ${file}`) as ConformanceReport };
  throw new UsageError(`${which}: ${path}: kind is ${JSON.stringify(kind)}; expected "${RESULTS_KIND}" (a run's results.json) or "${CONFORMANCE_REPORT_KIND}" (a certificate's conformance.json)`);
}

function checked(value: unknown, shapeError: (value: unknown) => string | null, where: string): unknown {
  const error = shapeError(value);
  if (error) throw new UsageError(`${where}: ${error}`);
  return value;
}

/** The certificate with its benchmark's results.json, when that is still beside it. */
function certificate(loaded: Extract<Loaded, { kind: "certificate" }>): CertificateInput {
  const performance = loaded.value.performance;
  if (!("resultsDir" in performance)) return { report: loaded.value, performanceResults: null };
  // The folder comes from the file: joined into a path only when it stays inside the certificate's folder.
  const dir = checkRelativeDir(performance.resultsDir);
  if (!dir.ok) throw new UsageError(`${loaded.file}: performance.resultsDir: ${dir.why}`);
  const resultsFile = join(dirname(loaded.file), dir.dir, "results.json");
  if (!existsSync(resultsFile)) return { report: loaded.value, performanceResults: null };
  const parsed = readJsonFile(resultsFile, `${resultsFile} (the benchmark's results beside ${loaded.file}, from performance.resultsDir)`, "expected that benchmark's results.json");
  if ((parsed as { kind?: unknown } | null)?.kind !== RESULTS_KIND) return { report: loaded.value, performanceResults: null };
  return { report: loaded.value, performanceResults: checked(parsed, resultsShapeError, resultsFile) as Results };
}
