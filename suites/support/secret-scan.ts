// Finding a secret where it must never be: container logs, reports, the certificate. A
// leak is rarely the value alone on a line — it is inside a JSON field, URL-encoded in a
// query string, base64 inside an encoded request dump, or cut short — so the scan looks for
// any run of MIN_LEAK_CHARS or more consecutive characters of any of these forms:
//
// - raw: the value as it is;
// - json-escaped, url-encoded, html-escaped: when they differ from raw;
// - hex (lower and upper case) of its UTF-8 bytes;
// - base64 and base64url of its UTF-8 bytes at each of the three alignments it can have
//   inside a longer encoded blob (the characters that depend on the value alone).
//
// 16 characters are 96 bits of a base64url secret (64 of its hex form): a fragment that
// long does not occur by chance, while the short prefixes some tools log to tell keys apart
// (4–8 characters) are not counted. What a scan reports names where (file or container,
// line, column), which secret and which form — never the value: redact() is what evidence
// shows of a line.
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Shortest run of a secret's characters that counts as leaked (the whole value when shorter). */
export const MIN_LEAK_CHARS = 16;
/** Characters of keys and their encodings (base64, base64url, hex, URL escapes): a redaction takes the whole token. */
const TOKEN_CHAR = /[A-Za-z0-9+/=_%-]/;
/** Bound on the files findSecretIn reads under the directories it is given. */
export const MAX_SCANNED_FILES = 10_000;

export interface NamedSecret {
  /** How evidence names it: "the seeded secret", "rotation 1" — never the value. */
  label: string;
  value: string;
}

export interface SecretForm {
  form: string;
  text: string;
}

export interface LeakSpan {
  /** 0-based, in UTF-16 code units of the line. */
  start: number;
  end: number;
  secret: string;
  form: string;
}

export interface LineLeak {
  /** 1-based line number. */
  line: number;
  /** 1-based column of the first leaked character. */
  column: number;
  secret: string;
  form: string;
}

export interface FileLeak extends LineLeak {
  file: string;
}

/** Every form of `value` the scan looks for (see the file's header), duplicates removed. */
export function secretForms(value: string): SecretForm[] {
  const bytes = Buffer.from(value, "utf8");
  const forms: SecretForm[] = [{ form: "raw", text: value }];
  forms.push({ form: "json-escaped", text: JSON.stringify(value).slice(1, -1) });
  forms.push({ form: "url-encoded", text: encodeURIComponent(value) });
  forms.push({ form: "html-escaped", text: value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;") });
  const hex = bytes.toString("hex");
  forms.push({ form: "hex", text: hex }, { form: "hex", text: hex.toUpperCase() });
  for (let skip = 0; skip < 3; skip++) {
    // The value's bytes from `skip` on, cut to whole 3-byte groups: the characters of any
    // base64 stream in which they start a group, whatever comes before and after.
    const aligned = bytes.subarray(skip, skip + Math.floor((bytes.length - skip) / 3) * 3);
    if (aligned.length === 0) continue;
    const label = skip === 0 ? "" : ` (in a longer blob, offset ${skip})`;
    forms.push({ form: `base64${label}`, text: aligned.toString("base64") }, { form: `base64url${label}`, text: aligned.toString("base64url") });
  }
  const seen = new Set<string>();
  return forms.filter((f) => f.text.length > 0 && !seen.has(f.text) && (seen.add(f.text), true));
}

/**
 * Finds fragments of a set of secrets in text: every window of the forms' characters (of
 * MIN_LEAK_CHARS, or the whole form when shorter) in one lookup table, slid over each line.
 */
export class LeakMatcher {
  private readonly windows = new Map<number, Map<string, { secret: string; form: string }>>();

  constructor(secrets: readonly NamedSecret[], minChars = MIN_LEAK_CHARS) {
    for (const secret of secrets) {
      if (secret.value.length === 0) throw new Error(`secret "${secret.label}" is empty: there is nothing to scan for`);
      for (const { form, text } of secretForms(secret.value)) {
        const size = Math.min(minChars, text.length);
        let bySize = this.windows.get(size);
        if (!bySize) this.windows.set(size, (bySize = new Map()));
        for (let i = 0; i + size <= text.length; i++) {
          const window = text.slice(i, i + size);
          if (!bySize.has(window)) bySize.set(window, { secret: secret.label, form });
        }
      }
    }
  }

  /** The maximal runs of `line` covered by windows of a secret, in order. */
  spans(line: string): LeakSpan[] {
    const hits: LeakSpan[] = [];
    for (const [size, table] of this.windows) {
      for (let i = 0; i + size <= line.length; i++) {
        const hit = table.get(line.slice(i, i + size));
        if (hit) hits.push({ start: i, end: i + size, ...hit });
      }
    }
    hits.sort((a, b) => a.start - b.start);
    const merged: LeakSpan[] = [];
    for (const hit of hits) {
      const last = merged[merged.length - 1];
      if (last && hit.start <= last.end) last.end = Math.max(last.end, hit.end);
      else merged.push({ ...hit });
    }
    return merged;
  }

  /** One entry per line with a leak (its first), line numbers counted from `firstLine`. */
  scanLines(lines: Iterable<string>, firstLine = 1): LineLeak[] {
    const leaks: LineLeak[] = [];
    let number = firstLine;
    for (const line of lines) {
      const [first] = this.spans(line);
      if (first) leaks.push({ line: number, column: first.start + 1, secret: first.secret, form: first.form });
      number++;
    }
    return leaks;
  }

  /**
   * The line with each leaked run replaced by "[redacted: <secret>, <form>]", cut to
   * `maxChars`. The run is widened to the whole token of key-like characters around it, so
   * no short remainder (a base64 tail, a cut-off end) is left beside the marker.
   */
  redact(line: string, maxChars = 240): string {
    let out = "";
    let at = 0;
    for (const span of this.spans(line)) {
      let start = Math.max(span.start, at);
      let end = span.end;
      while (start > at && TOKEN_CHAR.test(line[start - 1]!)) start--;
      while (end < line.length && TOKEN_CHAR.test(line[end]!)) end++;
      out += `${line.slice(at, start)}[redacted: ${span.secret}, ${span.form}]`;
      at = end;
    }
    out += line.slice(at);
    return out.length > maxChars ? `${out.slice(0, maxChars)}…` : out;
  }

  /** `value` with every string in it redacted (evidence objects, log tails). */
  redactDeep<T>(value: T): T {
    if (typeof value === "string") return this.redact(value, Number.POSITIVE_INFINITY) as T;
    if (Array.isArray(value)) return value.map((item) => this.redactDeep(item)) as T;
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [this.redact(key, Number.POSITIVE_INFINITY), this.redactDeep(item)])) as T;
    }
    return value;
  }
}

/**
 * Where any of `secrets` appears in the files written (a certification's reports, its
 * certificate, anything else it wrote): each path a file or a directory (walked, symbolic
 * links not followed, at most MAX_SCANNED_FILES files). Pass, for every check of the
 * certification, secretFamily(its context.secretValue) (suites/support/secret-values.ts):
 * the seeded secret and every rotation the secrets checks wrote. The result names file, line
 * and form, never the value; [] when nothing leaked.
 */
export function findSecretIn(paths: readonly string[], secrets: readonly NamedSecret[]): FileLeak[] {
  if (secrets.length === 0) return [];
  const matcher = new LeakMatcher(secrets);
  const leaks: FileLeak[] = [];
  for (const file of filesUnder(paths)) {
    const text = readFileSync(file).toString("utf8");
    for (const leak of matcher.scanLines(text.split("\n"))) leaks.push({ file, ...leak });
  }
  return leaks;
}

function filesUnder(paths: readonly string[]): string[] {
  const files: string[] = [];
  const pending = [...paths];
  while (pending.length > 0) {
    const path = pending.shift()!;
    const stat = lstatSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path).sort()) pending.push(join(path, entry));
    } else if (stat.isFile()) {
      if (files.length >= MAX_SCANNED_FILES) throw new Error(`findSecretIn: more than ${MAX_SCANNED_FILES} files under ${paths.join(", ")}`);
      files.push(path);
    }
  }
  return files;
}
