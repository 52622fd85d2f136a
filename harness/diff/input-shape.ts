// What diff reads of its inputs, checked before it reads them: a results.json or a
// conformance.json with the right kind but a field missing or of the wrong type (hand-edited,
// truncated, from another version) is named by file and field — bad input, exit 2 — instead
// of surfacing as a TypeError deep in the comparison.

type Expected = "string" | "number" | "array" | "object" | "object|null";

/** Paths (dot-separated) into a run's results.json that diff reads, with their type. */
const RESULTS_FIELDS: ReadonlyArray<[string, Expected]> = [
  ["runId", "string"],
  ["status", "string"],
  ["schemaVersion", "number"],
  ["scenario", "object"],
  ["scenario.sha256", "string"],
  ["environment", "object"],
  ["environment.runtime", "string"],
  ["plan", "object"],
  ["plan.seed", "number"],
  ["plan.arms", "array"],
  ["plan.rounds", "number"],
  ["plan.steps", "array"],
  ["pods", "array"],
  ["trials", "array"],
  ["analysis", "object|null"],
];

/** Per measured trial (not warm-up, with a round). */
const TRIAL_FIELDS: ReadonlyArray<[string, Expected]> = [
  ["arm", "string"],
  ["latencyUs.p50", "number"],
  ["latencyUs.p99", "number"],
  ["serviceTimeUs.p50", "number"],
  ["serviceTimeUs.p99", "number"],
  ["resources", "array"],
];

const ANALYSIS_FIELDS: ReadonlyArray<[string, Expected]> = [["variants", "array"]];

const CERTIFICATE_FIELDS: ReadonlyArray<[string, Expected]> = [
  ["runId", "string"],
  ["status", "string"],
  ["result", "string"],
  ["runtime", "string"],
  ["implementation", "object"],
  ["implementation.name", "string"],
  ["implementation.manifest.sha256", "string"],
  ["primary.name", "string"],
  ["suite", "object"],
  ["policy", "object"],
  ["profiles", "array"],
  ["performance", "object"],
  ["performance.status", "string"],
];

/** The first field that is missing or of the wrong type, as "path: expected …, found …"; null when all are there. */
export function resultsShapeError(value: unknown): string | null {
  const top = firstMismatch(value, RESULTS_FIELDS, "");
  if (top) return top;
  const results = value as { trials: unknown[]; analysis: unknown };
  if (results.analysis !== null) {
    const analysis = firstMismatch(results.analysis, ANALYSIS_FIELDS, "analysis.");
    if (analysis) return analysis;
  }
  for (const [i, trial] of results.trials.entries()) {
    const t = trial as { warmup?: unknown; round?: unknown } | null;
    if (typeof t !== "object" || t === null) return `trials[${i}]: expected an object, found ${describe(t)}`;
    if (t.warmup || t.round === null || t.round === undefined) continue;
    const found = firstMismatch(t, TRIAL_FIELDS, `trials[${i}].`);
    if (found) return found;
  }
  return null;
}

export function certificateShapeError(value: unknown): string | null {
  const top = firstMismatch(value, CERTIFICATE_FIELDS, "");
  if (top) return top;
  for (const [i, profile] of (value as { profiles: unknown[] }).profiles.entries()) {
    const found = firstMismatch(profile, [["tests", "array"]], `profiles[${i}].`);
    if (found) return found;
  }
  return null;
}

function firstMismatch(value: unknown, fields: ReadonlyArray<[string, Expected]>, prefix: string): string | null {
  for (const [path, expected] of fields) {
    const found = path.split(".").reduce<unknown>((at, key) => (typeof at === "object" && at !== null ? (at as Record<string, unknown>)[key] : undefined), value);
    if (!matches(found, expected)) return `${prefix}${path}: expected ${expected === "object|null" ? "an object or null" : expected === "array" ? "an array" : expected === "object" ? "an object" : `a ${expected}`}, found ${describe(found)}`;
  }
  return null;
}

function matches(value: unknown, expected: Expected): boolean {
  if (expected === "array") return Array.isArray(value);
  if (expected === "object") return typeof value === "object" && value !== null && !Array.isArray(value);
  if (expected === "object|null") return value === null || (typeof value === "object" && !Array.isArray(value));
  if (expected === "number") return typeof value === "number" && Number.isFinite(value);
  return typeof value === expected;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing (the field is absent)";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}
