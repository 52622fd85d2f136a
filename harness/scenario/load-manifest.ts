// One manifest file → validated data with defaults applied, or every issue in it at once
// (YAML syntax, duplicate keys, schema), each placed at file:line:col.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { z } from "zod";
import { didYouMean } from "./did-you-mean.ts";
import { asRecord } from "./fields.ts";
import { manifestErrorMap } from "./issue-messages.ts";
import { ManifestError, formatFieldPath, type ManifestIssue, type PathSegment } from "./manifest-error.ts";
import { certificationPolicySchema, type CertificationPolicy } from "./policy-schema.ts";
import { primarySchema, type PrimaryManifest } from "./primary-schema.ts";
import { scenarioSchema, type ScenarioManifest } from "./scenario-schema.ts";
import { sidecarSchema, type SidecarManifest } from "./sidecar-schema.ts";
import { parseYaml, type ParsedYaml, type SourcePosition } from "./yaml-document.ts";

export const MANIFEST_SCHEMAS = {
  Sidecar: sidecarSchema,
  Primary: primarySchema,
  Scenario: scenarioSchema,
  CertificationPolicy: certificationPolicySchema,
} as const;

export type ManifestKind = keyof typeof MANIFEST_SCHEMAS;

export interface ManifestByKind {
  Sidecar: SidecarManifest;
  Primary: PrimaryManifest;
  Scenario: ScenarioManifest;
  CertificationPolicy: CertificationPolicy;
}

/** A validated manifest and where it came from (templates' `{{ file }}` paths resolve against `dir`). */
export interface LoadedManifest<M> {
  /** Absolute path. */
  file: string;
  dir: string;
  /** sha256 (hex) of the file's UTF-8 text: part of the environment fingerprint. */
  sha256: string;
  /** The manifest with defaults applied. */
  manifest: M;
}

/** The outcome of parsing one file; `locate` lets callers place cross-file issues in it. */
export interface ParsedManifest<M> {
  loaded?: LoadedManifest<M>;
  issues: ManifestIssue[];
  locate: ParsedYaml["locate"];
}

export function issueAt(
  file: string,
  locate: ParsedYaml["locate"] | undefined,
  path: readonly PathSegment[],
  message: string,
  target: "key" | "value" = "value",
): ManifestIssue {
  return withPosition({ file, path: formatFieldPath(path), message }, locate?.(path, target));
}

function withPosition(issue: ManifestIssue, position: SourcePosition | undefined): ManifestIssue {
  return position === undefined ? issue : { ...issue, line: position.line, column: position.column };
}

/** Reading order: by line, document-level issues first. */
export function sortIssues(issues: ManifestIssue[]): ManifestIssue[] {
  return [...issues].sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

function schemaIssues(file: string, parsed: ParsedYaml, error: z.ZodError, knownKeys: Map<string, readonly string[]>): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((s): s is PathSegment => typeof s === "string" || typeof s === "number");
    if (issue.code === "unrecognized_keys") {
      // zod reports all unknown keys of an object as one issue; a user wants each at its line.
      const candidates = knownKeys.get(formatFieldPath(path)) ?? [];
      for (const key of issue.keys) {
        issues.push(issueAt(file, parsed.locate, [...path, key], `unknown key ${JSON.stringify(key)}${didYouMean(key, candidates)}`, "key"));
      }
    } else {
      issues.push(issueAt(file, parsed.locate, path, issue.message, issue.code === "invalid_key" ? "key" : "value"));
    }
  }
  return issues;
}

/** Validates YAML text as a manifest of `kind`. `file` is only used to label issues and resolve `dir`. */
export function parseManifest<K extends ManifestKind>(text: string, file: string, kind: K): ParsedManifest<ManifestByKind[K]> {
  const absolute = resolve(file);
  const parsed = parseYaml(text);
  const issues: ManifestIssue[] = parsed.problems.map((p) => withPosition({ file: absolute, path: p.path, message: p.message }, p.position));
  if (parsed.data === undefined && issues.length > 0) return { issues, locate: parsed.locate };

  if (parsed.data === undefined || parsed.data === null) {
    issues.push({ file: absolute, path: "", line: 1, column: 1, message: `expected a ${kind} manifest (apiVersion, kind, metadata, spec), found an empty document` });
    return { issues, locate: parsed.locate };
  }

  const declaredKind = asRecord(parsed.data)?.["kind"];
  if (typeof declaredKind === "string" && declaredKind !== kind && declaredKind in MANIFEST_SCHEMAS) {
    // Validating a Sidecar against the Primary schema would bury the one real mistake.
    issues.push(issueAt(absolute, parsed.locate, ["kind"], `expected ${JSON.stringify(kind)}, found ${JSON.stringify(declaredKind)}: this file is referenced as a ${kind} manifest`));
    return { issues: sortIssues(issues), locate: parsed.locate };
  }

  const knownKeys = new Map<string, readonly string[]>();
  const schema: z.ZodType<ManifestByKind[K]> = MANIFEST_SCHEMAS[kind] as unknown as z.ZodType<ManifestByKind[K]>;
  const result = schema.safeParse(parsed.data, { error: manifestErrorMap(knownKeys) });
  if (!result.success) issues.push(...schemaIssues(absolute, parsed, result.error, knownKeys));
  if (issues.length > 0) return { issues: sortIssues(issues), locate: parsed.locate };
  return {
    loaded: {
      file: absolute,
      dir: dirname(absolute),
      sha256: createHash("sha256").update(text).digest("hex"),
      manifest: result.data as ManifestByKind[K],
    },
    issues,
    locate: parsed.locate,
  };
}

/** Reads a file's text, or says in a sentence why it cannot be read. */
export async function readManifestText(file: string): Promise<{ text: string } | { problem: string }> {
  try {
    return { text: await readFile(file, "utf8") };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { problem: `file not found: ${file}` };
    if (code === "EISDIR") return { problem: `expected a manifest file, found a directory: ${file}` };
    if (code === "EACCES") return { problem: `permission denied reading ${file}` };
    return { problem: `cannot read ${file}: ${(error as Error).message}` };
  }
}

/** Loads one manifest of `kind`, or throws a ManifestError listing every issue in the file. */
export async function loadManifest<K extends ManifestKind>(file: string, kind: K): Promise<LoadedManifest<ManifestByKind[K]>> {
  const absolute = resolve(file);
  const read = await readManifestText(absolute);
  if ("problem" in read) throw new ManifestError([{ file: absolute, path: "", message: read.problem }]);
  const { loaded, issues } = parseManifest(read.text, absolute, kind);
  if (loaded === undefined) throw new ManifestError(issues);
  return loaded;
}
