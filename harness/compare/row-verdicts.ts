// Each cell's verdict from its evidence: pure functions, so the rules can be tested with
// made-up evidence (including evidence that refutes the claim) and re-applied to a
// results.json. A verdict is "holds" or "refuted" only when the measurement decides it;
// a fault that did not take effect, or a CI that straddles the claimed bound, is
// "not-distinguishable".
import type { MetricAnalysis } from "../measure/paired-analysis.ts";
import { CLAIMS, type Column, type RowId } from "./claims.ts";
import type { Cell, CellVerdict, EpisodeResult, EquivalenceResult, PodStructure } from "./comparison-model.ts";

export interface IsolationRule {
  minAvailabilityPct: number;
  maxP99Ratio: number;
}

export const COMPLEXITY_RULE =
  "low: no container, port or start-up dependency beyond the bare primary's; medium: one more container or any start-up dependency; high: two or more more containers";

export const OVERHEAD_RULE =
  "Δp50 (median of paired rounds, bootstrap 95% CI) against the bare primary: '< X' holds when the whole CI is below X and is refuted when the whole CI is above it; '0 ms' holds when Δp50 is inside the A/A noise floor and is refuted when it is outside";

function cell(row: RowId, column: Column, measured: string, verdict: CellVerdict, basis: Cell["basis"], evidence: Record<string, unknown>): Cell {
  return { row, column, claim: CLAIMS[row][column].text, measured, verdict, basis, evidence };
}

const decide = (measuredYes: boolean, claimedYes: boolean): CellVerdict => (measuredYes === claimedYes ? "holds" : "refuted");

export function formatDeltaUs(analysis: Pick<MetricAnalysis, "deltaMedian" | "ci95">): string {
  const us = (v: number) => `${v >= 0 ? "+" : "−"}${Math.abs(Math.round(v))}`;
  return `${us(analysis.deltaMedian)} µs [${us(analysis.ci95.low)}, ${us(analysis.ci95.high)}]`;
}

// ---------------------------------------------------------------- overhead

export function overheadCell(column: Column, p50: MetricAnalysis | undefined, p99: MetricAnalysis | undefined): Cell {
  const expects = CLAIMS["overhead-per-request"][column].expects;
  if (p50 === undefined) return cell("overhead-per-request", column, "not measured", "not-distinguishable", "measured", {});
  const evidence = {
    deltaP50Us: p50.deltaMedian,
    ci95P50Us: p50.ci95,
    noiseFloorP50Us: p50.noiseFloorHalfWidth,
    deltaP99Us: p99?.deltaMedian ?? null,
    ci95P99Us: p99?.ci95 ?? null,
    rounds: p50.rounds,
  };
  const tail = p99 ? `; Δp99 ${p99.verdict === "not-distinguishable" ? "not distinguishable from the A/A floor" : formatDeltaUs(p99)}` : "";
  let verdict: CellVerdict;
  let headline: string;
  if (expects.kind === "overhead-zero") {
    const inFloor = Math.abs(p50.deltaMedian) <= p50.noiseFloorHalfWidth && p50.verdict === "not-distinguishable";
    verdict = p50.verdict === "not-distinguishable" ? "holds" : "refuted";
    headline = inFloor ? `Δp50 inside the A/A floor ±${Math.round(p50.noiseFloorHalfWidth)} µs` : `Δp50 ${formatDeltaUs(p50)}`;
  } else if (expects.kind === "overhead-below") {
    verdict = p50.ci95.high < expects.limitUs ? "holds" : p50.ci95.low > expects.limitUs ? "refuted" : "not-distinguishable";
    headline = `Δp50 ${formatDeltaUs(p50)}`;
  } else {
    throw new Error(`overhead row with a ${expects.kind} claim`);
  }
  return cell("overhead-per-request", column, `${headline}${tail}`, verdict, "measured", evidence);
}

// ---------------------------------------------------------------- episodes

export interface PrimaryImpact {
  /** "undecided": only the latency criterion spoke, and its 95% CI straddles the allowed ratio. */
  impact: "affected" | "unaffected" | "undecided";
  reasons: string[];
}

/** Whether the primary itself suffered in an episode, by the rule stated before running. */
export function primaryAffected(episode: EpisodeResult, rule: IsolationRule): PrimaryImpact {
  const reasons: string[] = [];
  const { primary } = episode;
  if (primary.oomKilled) reasons.push("the primary was OOM-killed");
  if (primary.restarted) reasons.push(`the primary restarted (pid ${primary.pidBefore ?? "?"} → ${primary.pidAfter ?? "none"})`);
  else if (primary.modelReloaded) reasons.push("the primary reloaded its model");
  const direct = episode.streams.find((s) => s.target === "primary");
  let latencyUndecided: string | null = null;
  if (direct) {
    const { before, during, p99Ratio } = direct;
    if (during.availabilityPct !== null && during.availabilityPct < rule.minAvailabilityPct) {
      reasons.push(`the primary answered ${during.availabilityPct.toFixed(1)}% of the requests sent straight to it (rule: ≥ ${rule.minAvailabilityPct}%)`);
    }
    if (p99Ratio !== null && before.p99Us !== null && during.p99Us !== null) {
      const growth = `its p99 went ${fmtMs(before.p99Us)} → ${fmtMs(during.p99Us)}, ×${p99Ratio.estimate.toFixed(1)} [95% CI ×${p99Ratio.low.toFixed(1)}, ×${p99Ratio.high.toFixed(1)}]; rule: ≤ ×${rule.maxP99Ratio}`;
      if (p99Ratio.low > rule.maxP99Ratio) reasons.push(growth);
      else if (p99Ratio.high > rule.maxP99Ratio) latencyUndecided = growth;
    }
  }
  if (reasons.length > 0) return { impact: "affected", reasons };
  return latencyUndecided ? { impact: "undecided", reasons: [latencyUndecided] } : { impact: "unaffected", reasons: [] };
}

function fmtMs(us: number): string {
  return us >= 10_000 ? `${(us / 1000).toFixed(0)} ms` : `${(us / 1000).toFixed(2)} ms`;
}

function episodeEvidence(episode: EpisodeResult): Record<string, unknown> {
  const stream = (target: "entry" | "primary") => episode.streams.find((s) => s.target === target);
  const entry = stream("entry");
  const direct = stream("primary");
  return {
    episode: episode.kind,
    faultTookEffect: episode.faultTookEffect,
    primaryRestarted: episode.primary.restarted,
    primaryOomKilled: episode.primary.oomKilled,
    modelReloaded: episode.primary.modelReloaded,
    primaryAvailabilityPct: direct?.during.availabilityPct ?? null,
    primaryP99BeforeUs: direct?.before.p99Us ?? null,
    primaryP99DuringUs: direct?.during.p99Us ?? null,
    primaryP99Ratio: direct?.p99Ratio ?? null,
    entryFailed: entry?.during.failed ?? null,
    entryAvailabilityPct: entry?.during.availabilityPct ?? null,
    entryTimeToRecoverMs: entry?.timeToRecoverMs ?? null,
    unit: episode.unit,
    unitFate: episode.containers.find((c) => c.container === episode.unit) ?? null,
  };
}

function inconclusive(episode: EpisodeResult | undefined): string | null {
  if (episode === undefined) return "not run";
  if (episode.error) return `episode failed: ${episode.error}`;
  if (!episode.trigger.accepted) return `the fault was not triggered: ${episode.trigger.detail}`;
  if (!episode.faultTookEffect) return "the fault did not take effect, so the episode cannot tell";
  return null;
}

function clientView(episode: EpisodeResult): string {
  const entry = episode.streams.find((s) => s.target === "entry");
  if (!entry) return "";
  const recover = entry.timeToRecoverMs === null ? "not recovered within the window" : entry.timeToRecoverMs === 0 ? "no request failed" : `recovered in ${Math.round(entry.timeToRecoverMs)} ms`;
  return `clients: ${entry.during.failed} of ${entry.during.sent} requests failed, ${recover}`;
}

export function resourceIsolationCell(column: Column, episodes: EpisodeResult[], rule: IsolationRule): Cell {
  const claimed = (CLAIMS["resource-isolation"][column].expects as { yes: boolean }).yes;
  const parts: string[] = [];
  const evidence: Record<string, unknown> = {};
  let anyAffected = false;
  let anyUndecided = false;
  for (const episode of episodes) {
    evidence[episode.kind] = episodeEvidence(episode);
    const why = inconclusive(episode);
    if (why) {
      anyUndecided = true;
      parts.push(`${episode.kind}: ${why}`);
      continue;
    }
    const { impact, reasons } = primaryAffected(episode, rule);
    anyAffected ||= impact === "affected";
    anyUndecided ||= impact === "undecided";
    const said = impact === "unaffected" ? "the primary was unaffected" : impact === "undecided" ? `undecided: ${reasons.join("; ")}` : reasons.join("; ");
    parts.push(`${episode.kind}: ${said} (${clientView(episode)})`);
  }
  // One episode where the primary suffered decides "no"; "yes" needs every episode to have shown it.
  const verdict: CellVerdict = anyAffected ? decide(false, claimed) : anyUndecided || episodes.length === 0 ? "not-distinguishable" : decide(true, claimed);
  const headline = anyAffected ? "no" : anyUndecided ? "undecided" : "yes";
  return cell("resource-isolation", column, `${headline} — ${parts.join(" | ")}`, verdict, "measured", evidence);
}

export function faultIsolationCell(column: Column, episode: EpisodeResult | undefined, rule: IsolationRule): Cell {
  const claimed = (CLAIMS["fault-isolation"][column].expects as { yes: boolean }).yes;
  const why = inconclusive(episode);
  if (why || episode === undefined) return cell("fault-isolation", column, `undecided — ${why}`, "not-distinguishable", "measured", episode ? episodeEvidence(episode) : {});
  const { impact, reasons } = primaryAffected(episode, rule);
  if (impact === "undecided") {
    return cell("fault-isolation", column, `undecided — the primary survived, but ${reasons.join("; ")} (${clientView(episode)})`, "not-distinguishable", "measured", episodeEvidence(episode));
  }
  const affected = impact === "affected";
  const measured = `${affected ? `no — ${reasons.join("; ")}` : "yes — the primary survived the crash untouched"} (${clientView(episode)})`;
  return cell("fault-isolation", column, measured, decide(!affected, claimed), "measured", episodeEvidence(episode));
}

export function lifecycleCell(column: Column, episode: EpisodeResult | undefined): Cell {
  const claimed = (CLAIMS["independent-lifecycle"][column].expects as { yes: boolean }).yes;
  const why = inconclusive(episode);
  if (why || episode === undefined) return cell("independent-lifecycle", column, `undecided — ${why}`, "not-distinguishable", "measured", episode ? episodeEvidence(episode) : {});
  const { primary } = episode;
  const independent = !primary.restarted && !primary.modelReloaded;
  const measured = independent
    ? `yes — restarting the function left the primary's process (pid ${primary.pidBefore}) and loaded model untouched (${clientView(episode)})`
    : `no — restarting the function restarted the primary (pid ${primary.pidBefore ?? "?"} → ${primary.pidAfter ?? "none"})${primary.modelReloaded ? " and reloaded its model" : ""} (${clientView(episode)})`;
  return cell("independent-lifecycle", column, measured, decide(independent, claimed), "measured", episodeEvidence(episode));
}

// ---------------------------------------------------------------- structure

export function complexityLevel(structure: PodStructure, baseline: PodStructure): "low" | "medium" | "high" {
  const extraContainers = structure.containers - baseline.containers;
  const extraPorts = structure.ports - baseline.ports;
  if (extraContainers >= 2) return "high";
  if (extraContainers === 1 || structure.startupDependencies > 0) return "medium";
  return extraPorts > 0 ? "medium" : "low";
}

export function complexityCell(column: Column, structure: PodStructure, baseline: PodStructure): Cell {
  const expects = CLAIMS["deployment-complexity"][column].expects as { level: "low" | "medium-high" };
  const level = complexityLevel(structure, baseline);
  const measuredLevel = level === "low" ? "low" : "medium-high";
  const lines = structure.configFiles.reduce((sum, f) => sum + f.lines, 0);
  const measured =
    `${level} — ${structure.containers} container(s), ${structure.processes} process(es), ${structure.ports} port(s), ` +
    `${structure.configFiles.length} config file(s) / ${lines} lines, ${structure.startupDependencies} start-up dependenc${structure.startupDependencies === 1 ? "y" : "ies"}, ${structure.artifacts.length} artifact(s) to build`;
  return cell("deployment-complexity", column, measured, expects.level === measuredLevel ? "holds" : "refuted", "derived", { level, structure, baseline });
}

/** The function runs in its own process when its pid (aux_build_info) differs from the primary's. */
function separateProcess(facts: EquivalenceResult["facts"]): boolean | null {
  if (facts.functionPid === null || facts.primaryPid === null) return null;
  return facts.functionPid !== facts.primaryPid;
}

function undecidedFacts(row: RowId, column: Column, equivalence: EquivalenceResult | undefined): Cell | null {
  if (equivalence === undefined) return cell(row, column, "undecided — the equivalence check did not run", "not-distinguishable", "derived", {});
  if (!equivalence.passed || separateProcess(equivalence.facts) === null) {
    const failed = equivalence.checks.filter((c) => !c.passed).map((c) => c.name);
    return cell(row, column, `undecided — the equivalence check failed (${failed.join(", ") || "no pid"})`, "not-distinguishable", "derived", { facts: equivalence.facts });
  }
  return null;
}

export function couplingCell(column: Column, equivalence: EquivalenceResult | undefined, structure: PodStructure, baseline: PodStructure): Cell {
  const undecided = undecidedFacts("deployment-coupling", column, equivalence);
  if (undecided) return undecided;
  const facts = equivalence!.facts;
  const separate = separateProcess(facts)!;
  const ownContainer = structure.containers > baseline.containers;
  const loose = separate && ownContainer;
  const claimedLoose = (CLAIMS["deployment-coupling"][column].expects as { loose: boolean }).loose;
  const measured = loose
    ? `loose — own container and process (pid ${facts.functionPid} ≠ primary ${facts.primaryPid}), reached over HTTP on localhost, shipped as its own artifact`
    : `tight — runs inside the primary's process (pid ${facts.functionPid} = primary ${facts.primaryPid})${column === "library" ? ", linked in at import as a separate package" : ", built from the primary's own source"}; changing it means redeploying the primary`;
  return cell("deployment-coupling", column, measured, claimedLoose === loose ? "holds" : "refuted", "derived", { facts, containers: structure.containers, artifacts: structure.artifacts });
}

export function polyglotCell(column: Column, equivalence: EquivalenceResult | undefined): Cell {
  const undecided = undecidedFacts("polyglot-support", column, equivalence);
  if (undecided) return undecided;
  const facts = equivalence!.facts;
  const claimed = (CLAIMS["polyglot-support"][column].expects as { level: string }).level;
  const fnLanguage = facts.language ?? "unknown";
  let level: "yes" | "limited" | "no";
  let measured: string;
  if (separateProcess(facts)) {
    // Shown, not assumed: a function in another language than the primary's served it correctly.
    level = fnLanguage.toLowerCase() !== facts.primaryLanguage.toLowerCase() ? "yes" : "limited";
    measured =
      level === "yes"
        ? `yes — the function in ${facts.runtime ?? fnLanguage} serves a ${facts.primaryLanguage} primary over HTTP`
        : `not shown — the function and the primary are both ${fnLanguage}`;
  } else {
    // In-process: the function can only be written in the primary's language.
    level = column === "library" ? "limited" : "no";
    measured =
      level === "limited"
        ? `limited — a ${fnLanguage} package (${facts.runtime ?? ""}), reusable by ${fnLanguage} primaries only, loaded into the primary's process`
        : `no — the function is ${fnLanguage} code inside the ${facts.primaryLanguage} primary's own process`;
  }
  const verdict: CellVerdict = level === claimed ? "holds" : measured.startsWith("not shown") ? "not-distinguishable" : "refuted";
  return cell("polyglot-support", column, measured, verdict, "derived", { facts, level });
}

export function lockInCell(column: Column, equivalence: EquivalenceResult | undefined): Cell {
  const undecided = undecidedFacts("technology-lock-in", column, equivalence);
  if (undecided) return undecided;
  const facts = equivalence!.facts;
  const claimed = (CLAIMS["technology-lock-in"][column].expects as { yes: boolean }).yes;
  // Lock-in: the function's interface to the primary is the primary's language and framework (in-process),
  // not a protocol any server speaks.
  const lockedIn = !separateProcess(facts);
  const measured = lockedIn
    ? `yes — the function is bound to the primary's language (${facts.primaryLanguage}) and its ASGI interface`
    : `no — the function's only interface to the primary is HTTP (KServe v2) on localhost; it is written in ${facts.language ?? "another language"}`;
  return cell("technology-lock-in", column, measured, decide(lockedIn, claimed), "derived", { facts });
}
