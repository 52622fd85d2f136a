// Escaping for everything the HTML writers put into a page: text and attribute values,
// and JSON inside <script> elements (where "</script>" or "<!--" in a message or a
// scenario name would otherwise end the element early).

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text or attribute value → safe HTML (any value is stringified; null/undefined → ""). */
export function escapeHtml(value: unknown): string {
  if (value === null || value === undefined) return "";
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * JSON for a <script type="application/json"> element: `<`, `>` and `&` as \u escapes (so no
 * "</script>" or "<!--" can appear), and U+2028/U+2029, which some parsers treat as line ends.
 * JSON.parse reads the escapes back as the same characters.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}
