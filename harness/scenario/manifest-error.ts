// One error type for everything wrong with a manifest (YAML syntax, schema, references
// across files), so the CLI can print every problem at once in a file:line:col form
// that editors and terminals turn into links.
import { relative } from "node:path";

export type PathSegment = string | number;

export interface ManifestIssue {
  /** Absolute path of the file the issue is in. */
  file: string;
  /** Field path such as `spec.variants[0].sidecars[1]`; empty for the document as a whole. */
  path: string;
  /** 1-based, when the position is known. */
  line?: number;
  column?: number;
  /** What was expected and what was found. */
  message: string;
}

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** `["spec", "variants", 0, "entry"]` → `spec.variants[0].entry`; odd keys are bracket-quoted. */
export function formatFieldPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** `<file>:<line>:<col> <path>: <message>`, the file relative to `cwd`. */
export function formatManifestIssue(issue: ManifestIssue, cwd: string): string {
  const rel = relative(cwd, issue.file);
  // A file outside cwd reads better absolute than as a chain of `../`.
  const file = rel === "" || rel.startsWith("..") ? issue.file : rel;
  const where = issue.line === undefined ? file : `${file}:${issue.line}:${issue.column ?? 1}`;
  return issue.path === "" ? `${where} ${issue.message}` : `${where} ${issue.path}: ${issue.message}`;
}

export class ManifestError extends Error {
  readonly issues: readonly ManifestIssue[];

  constructor(issues: readonly ManifestIssue[], options: { cwd?: string } = {}) {
    const cwd = options.cwd ?? process.cwd();
    super(issues.map((issue) => formatManifestIssue(issue, cwd)).join("\n"));
    this.name = "ManifestError";
    this.issues = issues;
  }
}
