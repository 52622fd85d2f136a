// The compare report folder: results.json (everything), comparison.md (the table with
// claim, measured value and verdict per cell, then a paragraph of method per row),
// comparison.csv (one row per cell), report.html (the table with each cell's evidence
// folded, and the overhead charts) once the run has ended, and overhead/ (the benchmark's own reports).
import { stringify } from "csv-stringify/sync";
import { join } from "node:path";
import { writeFileAtomic } from "../report/atomic-write.ts";
import { compareReportHtml } from "../report/html/compare-report.ts";
import { environmentRows, markdownTable } from "../report/markdown-writer.ts";
import { writeReports } from "../report/write-reports.ts";
import { COLUMNS, COLUMN_LABELS, ROWS, ROW_LABELS, type RowId } from "./claims.ts";
import type { Cell, CellVerdict, ComparisonResults } from "./comparison-model.ts";

export const COMPARISON_FILES = ["results.json", "comparison.md", "comparison.csv", "report.html"] as const;

const VERDICT_MARK: Record<CellVerdict, string> = { holds: "✅ holds", refuted: "❌ refuted", "not-distinguishable": "❔ not distinguishable" };

function cellOf(results: ComparisonResults, row: RowId, column: (typeof COLUMNS)[number]): Cell | undefined {
  return results.table.find((c) => c.row === row && c.column === column);
}

/** The table alone, as `compare` prints it: one line per row, claim → verdict per column. */
export function comparisonSummary(results: ComparisonResults): string {
  const rows = ROWS.map((row) => [
    ROW_LABELS[row],
    ...COLUMNS.map((column) => {
      const cell = cellOf(results, row, column);
      return cell ? `${cell.claim} → ${VERDICT_MARK[cell.verdict]}` : "–";
    }),
  ]);
  return markdownTable(["row", ...COLUMNS.map((c) => COLUMN_LABELS[c])], rows);
}

function methods(results: ComparisonResults): Record<RowId, string> {
  const spec = results.scenario.spec as { comparison?: { episodes: Record<string, unknown> & { limits: { aux: object; primary: object }; balloon: object } } };
  const episodes = spec.comparison?.episodes;
  const rule = results.rules.isolation;
  const load = episodes
    ? `Each episode starts a fresh pod (restartPolicy Always, like a Deployment's pod; limits: function's sidecar ${JSON.stringify(episodes.limits.aux)}, primary ${JSON.stringify(episodes.limits.primary)}), ` +
      `sends ${episodes["ratePerSec"]} req/s to the entry and ${episodes["probeRatePerSec"]} req/s straight to the primary (open loop, constant), ` +
      `${episodes["beforeMs"]} ms before the fault and ${episodes["observeMs"]} ms after it.`
    : "";
  const unaffected = `The primary counts as unaffected when it kept its process and model, was not OOM-killed, answered ≥ ${rule.minAvailabilityPct}% of the requests sent straight to it, and its p99 grew at most ×${rule.maxP99Ratio} (stated before the run).`;
  return {
    "deployment-coupling": "Derived, not timed: does the function run in its own process (its pid in aux_build_info against the primary's /v2/debug/pid) and its own container, reached over HTTP? Then it is loose; inside the primary's process, tight.",
    "resource-isolation": `The function misbehaves under the limit of its unit: a memory balloon (${JSON.stringify(episodes?.balloon ?? {})}) and a CPU spin (${episodes?.["spinSeconds"] ?? "?"} s). ${load} ${unaffected} An episode where the fault did not take effect (no OOM, no CPU burnt) decides nothing.`,
    "independent-lifecycle": `The function is restarted, as an upgrade would, while load runs: the sidecar container alone, or the primary that contains it. Independent means the primary kept its process id and did not reload its model. ${load}`,
    "polyglot-support": "Shown by the integrations that exist: the language the function reports (aux_build_info) against the primary's (its command). A sidecar in another language that passed the equivalence check shows polyglot support; an in-process function is bound to the primary's language (a library is reusable, but by that language only).",
    "overhead-per-request": `The paired, interleaved open-loop benchmark of \`sidecar-bench run\` (the four arms alternate in short slots on one arrival schedule; A/A calibration gives the noise floor). Rule: ${results.rules.overhead}.`,
    "fault-isolation": `A fault trigger in the function's own code crashes its process (Go: an unrecovered nil dereference; Python: a segmentation fault). ${load} ${unaffected} Requests lost and time to recover are measured at the entry.`,
    "deployment-complexity": `Counted from the pod specs the runtime starts: containers, processes, ports, config files and their non-comment lines (manifests and files their commands reference), start-up dependencies (native sidecars gate the primary's start). Rule: ${results.rules.complexity}; the claim "medium-high" holds for medium or high.`,
    "technology-lock-in": "Derived from the same facts: a function inside the primary's process is written against the primary's language and framework interface (ASGI here); a function that talks HTTP on localhost is bound to a protocol only — shown by a Go function serving a Python primary.",
  };
}

function equivalenceSection(results: ComparisonResults): string {
  if (results.equivalence.length === 0) return "Not run.";
  return markdownTable(
    ["integration", "variant", "same work", "function", "failed checks"],
    results.equivalence.map((e) => [
      COLUMN_LABELS[e.column],
      e.variant,
      e.passed ? "yes" : "**no**",
      `${e.facts.language ?? "?"} (${e.facts.runtime ?? "?"}), pid ${e.facts.functionPid ?? "?"}; primary pid ${e.facts.primaryPid ?? "?"}`,
      e.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`).join("; ") || "–",
    ]),
  );
}

function episodeSection(results: ComparisonResults): string {
  if (results.episodes.length === 0) return "Not run.";
  const pct = (v: number | null | undefined) => (v === null || v === undefined ? "–" : `${v.toFixed(1)}%`);
  const ms = (us: number | null | undefined) => (us === null || us === undefined ? "–" : `${(us / 1000).toFixed(2)}`);
  return markdownTable(
    ["integration", "episode", "took effect", "primary pid", "OOM", "primary avail.", "primary p99 before → during (ms)", "clients failed", "clients recovered (ms)", "unit peak MiB / vCPU"],
    results.episodes.map((e) => {
      const entry = e.streams.find((s) => s.target === "entry");
      const direct = e.streams.find((s) => s.target === "primary");
      const unit = e.containers.find((c) => c.container === e.unit);
      return [
        COLUMN_LABELS[e.column],
        e.kind,
        e.error ? `error: ${e.error}` : e.faultTookEffect ? "yes" : "no",
        `${e.primary.pidBefore ?? "?"} → ${e.primary.pidAfter ?? "?"}`,
        e.primary.oomKilled ? "yes" : "no",
        pct(direct?.during.availabilityPct),
        `${ms(direct?.before.p99Us)} → ${ms(direct?.during.p99Us)}`,
        entry ? `${entry.during.failed}/${entry.during.sent}` : "–",
        entry?.timeToRecoverMs === null ? "not within window" : entry ? String(Math.round(entry.timeToRecoverMs)) : "–",
        unit ? `${unit.memoryPeakMiB.toFixed(0)} / ${unit.vcpuDuring.toFixed(2)}` : "–",
      ];
    }),
  );
}

export function comparisonMarkdown(results: ComparisonResults): string {
  const method = methods(results);
  const table = markdownTable(
    ["row", ...COLUMNS.map((c) => COLUMN_LABELS[c])],
    ROWS.map((row) => [
      ROW_LABELS[row],
      ...COLUMNS.map((column) => {
        const cell = cellOf(results, row, column);
        return cell ? `claim: ${cell.claim}<br>measured: ${cell.measured}<br>**${VERDICT_MARK[cell.verdict]}**` : "–";
      }),
    ]),
  );
  const env = results.environment;
  // The fingerprint's own wording (engine, port publishing, image ids), as run's report.md has it.
  const rows = new Map(environmentRows(env));
  const runtimeCell = rows.get("runtime / accounting");
  const images = rows.get("images");
  return [
    `# Sidecar vs monolithic vs library/SDK — measured`,
    "",
    `Run ${results.runId} (${results.status}), ${results.startedAt}; scenario ${results.scenario.name} (sha256 ${results.scenario.sha256.slice(0, 12)}), seed ${results.seed}.`,
    `Variants: sidecar = ${results.variants.sidecar}, monolithic = ${results.variants.monolithic}, library = ${results.variants.library}; baseline = the bare primary.`,
    `Environment: ${env.cpuModel}, ${env.cores} cores, ${env.kernel}; node ${env.node}, ${env.python ?? "python ?"}; runtime / accounting ${runtimeCell}; ${env.pinning}.`,
    ...(images ? [`Images: ${images}.`] : []),
    ...(results.error ? ["", `**The run stopped with an error:** ${results.error}`] : []),
    "",
    table,
    "",
    "## Method, row by row",
    "",
    ...ROWS.flatMap((row) => [`**${ROW_LABELS[row]}.** ${method[row]}`, ""]),
    "## Equivalence: the same work in every integration",
    "",
    equivalenceSection(results),
    "",
    "## Fault episodes",
    "",
    episodeSection(results),
    "",
    "The overhead benchmark's own report is in overhead/report.md; every number above is in results.json.",
    ...(results.warnings.length ? ["", "## Warnings", "", ...results.warnings.map((w) => `- ${w}`)] : []),
    "",
  ].join("\n");
}

export function comparisonCsv(results: ComparisonResults): string {
  return stringify(
    results.table.map((c) => ({ row: c.row, column: c.column, claim: c.claim, measured: c.measured, verdict: c.verdict, basis: c.basis, evidence: JSON.stringify(c.evidence) })),
    { header: true, columns: ["row", "column", "claim", "measured", "verdict", "basis", "evidence"] },
  );
}

/** report.html is written once the run has ended (`report` re-renders it from any results.json), not at every persist. */
export function writeComparisonReports(results: ComparisonResults, outDir: string, options: { skipResultsJson?: boolean; html?: "when-ended" | "always" } = {}): string[] {
  const written: string[] = [];
  const write = (name: string, content: string) => {
    writeFileAtomic(join(outDir, name), content);
    written.push(join(outDir, name));
  };
  if (!options.skipResultsJson) write("results.json", `${JSON.stringify(results, null, 2)}\n`);
  write("comparison.md", comparisonMarkdown(results));
  write("comparison.csv", comparisonCsv(results));
  if (results.status !== "running" || options.html === "always") write("report.html", compareReportHtml(results));
  if (results.overhead) written.push(...writeReports(results.overhead, join(outDir, "overhead"), options.html ? { html: options.html } : {}));
  return written;
}
