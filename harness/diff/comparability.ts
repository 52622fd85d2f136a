// Are two runs measurements of the same thing? The scenario file's sha256 covers the whole
// file, including what does not change what is measured (trials.rounds, seed, thresholds,
// metadata). So: an equal hash is comparable; a different one is compared field by field —
// what decides the measurement (workload, variants, sweep, pinning, placement, and the
// trials' shape: durationMs, slotMs, warmupMs, minRequests, which set what each
// percentile is taken over) must be equal, the rest is reported as a warning. The effective runtime and primary come from
// the results (--runtime and --primary override the scenario without changing its hash).
// The sidecars' own manifests are not compared: changing them is what a diff is for.
import type { Results } from "../report/results-model.ts";
import type { Incomparability } from "./diff-model.ts";

/** Scenario spec fields that change what is measured. */
const MEASURED_SPEC_FIELDS = ["workload", "variants", "sweep", "pinning", "placement", "calibration"] as const;
/** spec.trials fields that do not: more or fewer rounds only narrow or widen the CIs. */
const UNMEASURED_TRIALS_FIELDS: readonly string[] = ["rounds"];

export interface Comparability {
  incomparable: Incomparability[];
  warnings: string[];
}

export function compareRuns(base: Results, head: Results): Comparability {
  const incomparable: Incomparability[] = [];
  const warnings: string[] = [];
  const differ = (field: string, a: unknown, b: unknown, note = "") => {
    const found = firstDifference(a, b, field);
    if (found) incomparable.push({ field: found.path, message: `${found.path} differs: base ${show(found.base)}, head ${show(found.head)}${note}` });
  };
  if (base.schemaVersion !== head.schemaVersion) differ("schemaVersion", base.schemaVersion, head.schemaVersion);
  for (const [which, run] of [["base", base], ["head", head]] as const) {
    if (!run.analysis) incomparable.push({ field: "analysis", message: `analysis: the ${which} run (${run.runId}, status ${run.status}) has no analysis: it ended before two complete rounds` });
  }
  if (base.scenario.sha256 !== head.scenario.sha256) {
    const hashes = ` (scenario.sha256 differs: base ${short(base.scenario.sha256)}, head ${short(head.scenario.sha256)})`;
    const baseSpec = asRecord(base.scenario.spec);
    const headSpec = asRecord(head.scenario.spec);
    const before = incomparable.length;
    for (const field of MEASURED_SPEC_FIELDS) differ(`scenario.spec.${field}`, baseSpec[field], headSpec[field], hashes);
    differ("scenario.spec.trials", trialsShape(baseSpec["trials"]), trialsShape(headSpec["trials"]), hashes);
    if (incomparable.length === before) {
      const others = [...new Set([...Object.keys(baseSpec), ...Object.keys(headSpec)])].sort().filter((k) => firstDifference(baseSpec[k], headSpec[k], k) !== null);
      warnings.push(
        `scenario.sha256 differs: base ${short(base.scenario.sha256)}, head ${short(head.scenario.sha256)}; the workload, variants, sweep, pinning, placement, calibration and trials (except rounds) are the same, so the runs are compared${
          others.length > 0 ? ` (other differences: ${others.map((k) => `spec.${k}`).join(", ")})` : " (the files differ only outside spec)"
        }`,
      );
    }
  }
  differ("environment.runtime", base.environment.runtime, head.environment.runtime);
  differ("primary.name", base.primary?.name ?? null, head.primary?.name ?? null);
  if (base.primary && head.primary && base.primary.sha256 !== head.primary.sha256) {
    warnings.push(`primary.sha256 differs (the ${head.primary.name} manifest changed: base ${short(base.primary.sha256)}, head ${short(head.primary.sha256)}); the baseline arm absorbs it, the overheads are compared`);
  }
  differ("plan.arms", base.plan.arms, head.plan.arms);
  if (base.plan.rounds !== head.plan.rounds) warnings.push(`plan.rounds: base ${base.plan.rounds}, head ${head.plan.rounds} paired rounds`);
  if (!base.plan.aaArm || !head.plan.aaArm) warnings.push(`no A/A arm in the ${!base.plan.aaArm ? "base" : "head"} run: its noise floor counts as 0 and only the CIs and the tolerance decide`);
  for (const field of ["cpuModel", "cores", "kernel", "accounting", "pinning"] as const) {
    const a = base.environment[field];
    const b = head.environment[field];
    if (a !== b) warnings.push(`environment.${field} differs: base ${show(a)}, head ${show(b)} (the paired overheads are compared, absolute figures may not be)`);
  }
  for (const [which, run] of [["base", base], ["head", head]] as const) {
    if (run.status !== "complete") warnings.push(`the ${which} run is ${run.status}: ${run.analysis?.rounds ?? 0} complete rounds`);
  }
  return { incomparable, warnings };
}

/** spec.trials without the fields that do not change what is measured. */
function trialsShape(trials: unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(asRecord(trials)).filter(([key]) => !UNMEASURED_TRIALS_FIELDS.includes(key)));
}

/** The first leaf where two JSON values differ, as a path; null when equal. */
export function firstDifference(a: unknown, b: unknown, path: string): { path: string; base: unknown; head: unknown } | null {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) return { path: `${path}[${i}]`, base: a[i], head: b[i] };
      const found = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (isRecord(a) && isRecord(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const found = firstDifference(a[key], b[key], `${path}.${key}`);
      if (found) return found;
    }
    return null;
  }
  return a === b ? null : { path, base: a, head: b };
}

export function short(sha: string): string {
  return `${sha.slice(0, 12)}…`;
}

function show(value: unknown): string {
  if (value === undefined) return "(absent)";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}
