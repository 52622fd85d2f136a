// Small HTML pieces the report writers share: tables, badges, folded evidence, sections
// that degrade to a note instead of breaking the page.
import { escapeHtml } from "./escape.ts";

/** A trusted HTML fragment (already escaped), as opposed to a plain value to escape. */
export class Html {
  constructor(readonly html: string) {}
}

export const html = (fragment: string) => new Html(fragment);

export type Cell = string | number | null | undefined | Html | { value: string | number; numeric: true };

function cellHtml(cell: Cell): string {
  if (cell instanceof Html) return `<td>${cell.html}</td>`;
  if (cell !== null && typeof cell === "object") return `<td class="num">${escapeHtml(cell.value)}</td>`;
  if (typeof cell === "number") return `<td class="num">${escapeHtml(cell)}</td>`;
  return `<td>${cell === null || cell === undefined || cell === "" ? "–" : escapeHtml(cell)}</td>`;
}

/** A numeric cell (right-aligned) holding formatted text. */
export const num = (value: string | number): Cell => ({ value, numeric: true });

export function table(headers: string[], rows: Cell[][], attributes = ""): string {
  // A key/value table (every header empty) has no head row.
  const head = headers.some((h) => h !== "") ? `<thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead>\n` : "";
  return `<table${attributes ? ` ${attributes}` : ""}>\n${head}<tbody>\n${rows.map((r) => `<tr>${r.map(cellHtml).join("")}</tr>`).join("\n")}\n</tbody>\n</table>`;
}

export type Tone = "good" | "bad" | "warn" | "info" | "neutral";

export function badge(text: string, tone: Tone): Html {
  return html(`<span class="badge ${tone}">${escapeHtml(text)}</span>`);
}

/** JSON evidence folded away: the table stays readable, the numbers stay one click away. */
export function foldedJson(summary: string, value: unknown): Html {
  if (value === undefined || value === null) return html("");
  return html(`<details><summary>${escapeHtml(summary)}</summary><pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre></details>`);
}

export function list(items: string[]): string {
  return `<ul class="plain">${items.map((i) => `<li>${escapeHtml(i)}</li>`).join("")}</ul>`;
}

/**
 * A section built by `build`; null leaves it out (its data are absent). A builder that
 * throws on an unexpected record leaves a note rather than losing the whole report.
 */
export function section(title: string, build: () => string | null): string {
  let content: string | null;
  try {
    content = build();
  } catch (error) {
    content = `<p class="banner bad">This section could not be rendered from the results: ${escapeHtml((error as Error).message)}</p>`;
  }
  return content === null ? "" : `<section>\n<h2>${escapeHtml(title)}</h2>\n${content}\n</section>`;
}
