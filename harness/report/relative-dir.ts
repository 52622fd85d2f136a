// A folder a record names relative to its own (conformance.json's performance.resultsDir):
// it becomes a link in report.html and a path diff reads, so a value from a file someone
// else wrote must stay a plain relative path inside the record's folder. No scheme or colon
// (`javascript:`, `C:`; a browser strips tabs and newlines inside a scheme, so any colon
// counts), no backslash (a browser reads it as `/`), not absolute, no `..` segment, no
// control characters.

/** The folder when it is safe to link and join; otherwise why not. */
export function checkRelativeDir(value: unknown): { ok: true; dir: string } | { ok: false; why: string } {
  if (typeof value !== "string" || value.length === 0) return { ok: false, why: `expected a relative folder name, found ${JSON.stringify(value) ?? String(value)}` };
  const shown = JSON.stringify(value);
  if (/[\u0000-\u001f\u007f]/.test(value)) return { ok: false, why: `${shown} holds a control character` };
  if (value.includes(":")) return { ok: false, why: `${shown} has a colon (a URL scheme or a drive letter); expected a path relative to the certificate's folder` };
  if (value.includes("\\")) return { ok: false, why: `${shown} has a backslash; expected a relative path with /` };
  if (value.startsWith("/")) return { ok: false, why: `${shown} is absolute; expected a path relative to the certificate's folder` };
  if (value.split("/").includes("..")) return { ok: false, why: `${shown} has a ".." segment: it may leave the certificate's folder` };
  return { ok: true, dir: value };
}
