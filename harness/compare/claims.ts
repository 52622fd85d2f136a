// The comparison table that model-serving articles repeat, as data: the rows, the three
// integration columns, and each cell's claim in the article's words plus the typed
// expectation a measurement can confirm or refute.

export const COLUMNS = ["sidecar", "monolithic", "library"] as const;
export type Column = (typeof COLUMNS)[number];

export const COLUMN_LABELS: Record<Column, string> = { sidecar: "sidecar", monolithic: "monolithic", library: "library/SDK" };

export const ROWS = [
  "deployment-coupling",
  "resource-isolation",
  "independent-lifecycle",
  "polyglot-support",
  "overhead-per-request",
  "fault-isolation",
  "deployment-complexity",
  "technology-lock-in",
] as const;
export type RowId = (typeof ROWS)[number];

export const ROW_LABELS: Record<RowId, string> = {
  "deployment-coupling": "deployment coupling",
  "resource-isolation": "resource isolation",
  "independent-lifecycle": "independent lifecycle management",
  "polyglot-support": "polyglot support",
  "overhead-per-request": "overhead per request",
  "fault-isolation": "fault isolation",
  "deployment-complexity": "deployment complexity",
  "technology-lock-in": "technology lock-in",
};

/** What a claim asserts, in a form a measurement can be held against. */
export type Expectation =
  | { kind: "coupling"; loose: boolean }
  | { kind: "yes-no"; yes: boolean }
  | { kind: "polyglot"; level: "yes" | "limited" | "no" }
  | { kind: "overhead-below"; limitUs: number }
  | { kind: "overhead-zero" }
  | { kind: "complexity"; level: "low" | "medium-high" };

export interface Claim {
  text: string;
  expects: Expectation;
}

const yes = (text: string, value: boolean): Claim => ({ text, expects: { kind: "yes-no", yes: value } });

export const CLAIMS: Record<RowId, Record<Column, Claim>> = {
  "deployment-coupling": {
    sidecar: { text: "loose (separate container)", expects: { kind: "coupling", loose: true } },
    monolithic: { text: "tight (single binary)", expects: { kind: "coupling", loose: false } },
    library: { text: "tight (compiled/linked)", expects: { kind: "coupling", loose: false } },
  },
  "resource-isolation": { sidecar: yes("yes", true), monolithic: yes("no", false), library: yes("no", false) },
  "independent-lifecycle": { sidecar: yes("yes", true), monolithic: yes("no", false), library: yes("no", false) },
  "polyglot-support": {
    sidecar: { text: "yes", expects: { kind: "polyglot", level: "yes" } },
    monolithic: { text: "no", expects: { kind: "polyglot", level: "no" } },
    library: { text: "limited", expects: { kind: "polyglot", level: "limited" } },
  },
  "overhead-per-request": {
    sidecar: { text: "< 1 ms (IPC)", expects: { kind: "overhead-below", limitUs: 1_000 } },
    monolithic: { text: "0 ms", expects: { kind: "overhead-zero" } },
    library: { text: "< 0.1 ms", expects: { kind: "overhead-below", limitUs: 100 } },
  },
  "fault-isolation": { sidecar: yes("yes", true), monolithic: yes("no", false), library: yes("no", false) },
  "deployment-complexity": {
    sidecar: { text: "medium-high", expects: { kind: "complexity", level: "medium-high" } },
    monolithic: { text: "low", expects: { kind: "complexity", level: "low" } },
    library: { text: "low", expects: { kind: "complexity", level: "low" } },
  },
  "technology-lock-in": { sidecar: yes("no", false), monolithic: yes("yes", true), library: yes("yes", true) },
};
