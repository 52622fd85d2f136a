// zod's default messages ("Invalid input") say neither what was expected nor what was
// found. Every message a user sees is built here, in one voice: `expected X, found Y`.
import type { z } from "zod";
import { didYouMean } from "./did-you-mean.ts";
import { formatFieldPath } from "./manifest-error.ts";

type RawIssue = z.core.$ZodRawIssue;

const MAX_SHOWN_CHARS = 60;

/** How a value from YAML reads in a message: strings quoted, collections by kind. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "an empty value (null)";
  if (typeof value === "string") {
    const shown = value.length > MAX_SHOWN_CHARS ? `${value.slice(0, MAX_SHOWN_CHARS)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) {
    return value.length === 0 ? "an empty list" : `a list of ${value.length} item${value.length === 1 ? "" : "s"}`;
  }
  if (typeof value === "object") return "a mapping";
  return typeof value;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
}

function lastKey(path: readonly PropertyKey[] | undefined): string | undefined {
  const last = path?.at(-1);
  return typeof last === "string" ? last : undefined;
}

/** YAML quietly turns `1.10` into a number and `"8000"` stays a string; say how to fix it. */
function quotingHint(issue: RawIssue): string {
  if (issue.code !== "invalid_type") return "";
  const { expected, input } = issue;
  if (expected === "string" && (typeof input === "number" || typeof input === "boolean")) {
    return " (put it in quotes to make it a string)";
  }
  if ((expected === "number" || expected === "int") && typeof input === "string") {
    if (input.trim() !== "" && Number.isFinite(Number(input))) return " (remove the quotes to make it a number)";
    // YAML 1.2 has no digit separators, and editors validating against the JSON Schema agree.
    if (/^[-+]?\d[\d_]*(\.\d+)?$/.test(input)) return ` (YAML numbers have no "_" separators: write ${input.replace(/_/g, "")})`;
  }
  return "";
}

/** `expected <what>, found <input>`, or `missing required key "k" (expected <what>)`. */
export function expectedFound(what: string, issue: RawIssue): string {
  if (issue.input === undefined) {
    const key = lastKey(issue.path);
    return key === undefined ? `expected ${what}, found nothing` : `missing required key ${JSON.stringify(key)} (expected ${what})`;
  }
  return `expected ${what}, found ${describeValue(issue.input)}${quotingHint(issue)}`;
}

/**
 * A schema-level error map for leaves whose constraint is best said in words
 * (`a port number from 1 to 65535`): zod routes the schema's own type issue and the
 * issues of its checks here, so every failure of the field gets the same sentence.
 */
export function expected(what: string): (issue: RawIssue) => string {
  return (issue) => expectedFound(what, issue);
}

const TYPE_NOUNS: Record<string, string> = {
  object: "a mapping",
  record: "a mapping",
  array: "a list",
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  null: "an empty value",
};

function quoteAll(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === "string" ? JSON.stringify(v) : String(v))).join(", ");
}

function oneOf(values: readonly unknown[]): string {
  return values.length === 1 ? quoteAll(values) : `one of ${quoteAll(values)}`;
}

function bound(issue: { inclusive?: boolean }, below: boolean, value: number | bigint): string {
  const op = below ? (issue.inclusive === false ? ">" : "≥") : issue.inclusive === false ? "<" : "≤";
  return `${op} ${value}`;
}

function sizeMessage(issue: Extract<RawIssue, { code: "too_small" | "too_big" }>): string {
  const below = issue.code === "too_small";
  const limit = below ? (issue as { minimum: number | bigint }).minimum : (issue as { maximum: number | bigint }).maximum;
  switch (issue.origin) {
    case "array":
    case "set": {
      const n = Number(limit);
      const items = `${n} item${n === 1 ? "" : "s"}`;
      return expectedFound(`${below ? "at least" : "at most"} ${items}`, issue);
    }
    case "string": {
      const n = Number(limit);
      return expectedFound(`a string of ${below ? "at least" : "at most"} ${n} character${n === 1 ? "" : "s"}`, issue);
    }
    default:
      return expectedFound(`a number ${bound(issue, below, limit)}`, issue);
  }
}

/**
 * The parse-level error map: fallback for every issue a schema did not word itself.
 * `knownKeys` collects, per field path, the keys a strict object accepts and the input
 * lacks, so unknown keys can be split per key with a did-you-mean later on.
 */
export function manifestErrorMap(knownKeys: Map<string, readonly string[]>): (issue: RawIssue) => string {
  return (issue) => {
    switch (issue.code) {
      case "invalid_type":
        return expectedFound(TYPE_NOUNS[issue.expected] ?? issue.expected, issue);
      case "too_small":
      case "too_big":
        return sizeMessage(issue);
      case "invalid_format": {
        const format = issue as { format: string; pattern?: string; prefix?: string };
        if (format.format === "starts_with") return expectedFound(`a string starting with ${JSON.stringify(format.prefix)}`, issue);
        if (format.format === "regex") return expectedFound(`a string matching ${format.pattern}`, issue);
        return expectedFound(`a string in ${format.format} format`, issue);
      }
      case "invalid_value": {
        // With a single allowed value, "did you mean" would only repeat it.
        const found = typeof issue.input === "string" && issue.values.length > 1 ? didYouMean(issue.input, issue.values.map(String)) : "";
        return `${expectedFound(oneOf(issue.values), issue)}${found}`;
      }
      case "unrecognized_keys": {
        const inst = issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined;
        const accepted = Object.keys(inst?._zod?.def?.shape ?? {});
        const present = new Set(Object.keys(asObject(issue.input) ?? {}));
        knownKeys.set(
          formatFieldPath((issue.path ?? []) as (string | number)[]),
          accepted.filter((k) => !present.has(k)),
        );
        return `unknown key${issue.keys.length === 1 ? "" : "s"} ${quoteAll(issue.keys)}`;
      }
      case "invalid_union": {
        const options = (issue as { options?: readonly unknown[] }).options;
        if (issue.discriminator !== undefined && options !== undefined) {
          const value = asObject(issue.input)?.[issue.discriminator];
          const what = oneOf(options);
          if (value === undefined) return `missing required key ${JSON.stringify(issue.discriminator)} (expected ${what})`;
          const hint = typeof value === "string" ? didYouMean(value, options.map(String)) : "";
          return `expected ${what}, found ${describeValue(value)}${hint}`;
        }
        return `expected one of the allowed forms, found ${describeValue(issue.input)}`;
      }
      case "invalid_key": {
        const inner = issue.issues[0]?.message ?? `not allowed, found ${describeValue(issue.input)}`;
        return `invalid key: ${inner}`;
      }
      default:
        return `invalid value ${describeValue(issue.input)}`;
    }
  };
}
