// Opens a report.html in Debian's Chromium (driven by playwright-core) the way a reviewer
// would, from a file with no network, and reads back what each chart drew: every Vega
// view's named datasets and the number of items per mark type in its scenegraph. The
// browser tests assert on this; a screenshot is kept as a test artifact.
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { PROJECT_ROOT } from "../../project-root.ts";

/** Debian's chromium package (scripts/chromium-setup.mjs installs it for `npm test`). */
export const CHROMIUM_PATH = process.env["SIDECAR_BENCH_CHROMIUM"] ?? "/usr/bin/chromium";
/** Screenshots of the browser tests: reports/ is ignored by git apart from its README. */
export const SCREENSHOT_DIR = join(PROJECT_ROOT, "reports", "test-artifacts");
/** Rendering ~1 MB of inlined scripts and a few charts takes about a second; a loaded CI machine more. */
const RENDER_TIMEOUT_MS = 30_000;

export interface RenderedChart {
  /** Named dataset → its rows, as the Vega view holds them. */
  datasets: Record<string, Array<Record<string, unknown>>>;
  /** Mark type (symbol, line, rect, rule, …) → items drawn in the chart's data marks. */
  marks: Record<string, number>;
}

export interface OpenedReport {
  consoleErrors: string[];
  pageErrors: string[];
  /** Requests to anything but the file itself: a self-contained report makes none. */
  externalRequests: string[];
  chartErrors: string[];
  charts: Record<string, RenderedChart>;
  /** The page's visible text. */
  text: string;
}

/**
 * Runs in the page: each Vega view's named datasets, and the items of its data marks (role
 * "mark") per mark type, not axes, legends or titles.
 */
const READ_CHARTS = `function (names) {
  var bench = window.sidecarBench;
  var charts = {};
  Object.keys(bench.views).forEach(function (id) {
    var view = bench.views[id];
    var datasets = {};
    names.forEach(function (name) {
      try { datasets[name] = view.data(name).map(function (row) { return Object.assign({}, row); }); } catch (e) { /* not this chart's */ }
    });
    var marks = {};
    var walk = function (node) {
      if (node.marktype && node.marktype !== "group" && node.role === "mark") marks[node.marktype] = (marks[node.marktype] || 0) + (node.items ? node.items.length : 0);
      if (!node.marktype || node.marktype === "group") (node.items || []).forEach(walk);
    };
    walk(view.scenegraph().root);
    charts[id] = { datasets: datasets, marks: marks };
  });
  return { charts: charts, chartErrors: bench.errors, text: document.body.innerText };
}`;

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** Loads `file`, waits for every chart, and takes a full-page screenshot to `screenshotFile` if given. */
export async function openReport(file: string, options: { screenshotFile?: string; datasets: string[] }): Promise<OpenedReport> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, timeout: RENDER_TIMEOUT_MS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const consoleErrors: string[] = [];
    const pageErrors: string[] = [];
    const externalRequests: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => pageErrors.push(error.message));
    const own = pathToFileURL(file).href;
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url === own) return route.continue();
      externalRequests.push(url);
      return route.abort();
    });
    await page.goto(own, { timeout: RENDER_TIMEOUT_MS });
    await page.waitForFunction(() => (window as unknown as { sidecarBench?: { ready: boolean } }).sidecarBench?.ready === true, undefined, { timeout: RENDER_TIMEOUT_MS });
    // A string, not a function: tsx's esbuild adds __name() helpers to functions, which the page lacks.
    const state = (await page.evaluate(`(${READ_CHARTS})(${JSON.stringify(options.datasets)})`)) as Pick<OpenedReport, "charts" | "chartErrors" | "text">;
    if (options.screenshotFile) {
      mkdirSync(dirname(options.screenshotFile), { recursive: true });
      await page.screenshot({ path: options.screenshotFile, fullPage: true });
    }
    return { consoleErrors, pageErrors, externalRequests, ...state };
  } finally {
    await browser.close();
  }
}
