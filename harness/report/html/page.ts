// The HTML document around a report: inline CSS, the chart libraries inlined, each chart's
// spec as JSON in a <script type="application/json">, and a small bootstrap that embeds
// them and keeps each Vega view in window.sidecarBench.views (the browser test reads them).
import { chartLibraries } from "./chart-libraries.ts";
import { CHART_CONFIG, type Chart } from "./chart.ts";
import { escapeHtml, jsonForScript } from "./escape.ts";

const STYLE = `
:root { --fg: #1f2328; --muted: #59636e; --line: #d0d7de; --bg-soft: #f6f8fa; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --info: #0969da; }
* { box-sizing: border-box; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0; background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 64px; }
header.report { border-bottom: 1px solid var(--line); padding-bottom: 12px; margin-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 6px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p.meta, .caption, .muted { color: var(--muted); }
p.meta { margin: 2px 0; font-size: 13px; }
.caption { font-size: 13px; margin: 4px 0 8px; max-width: 900px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg-soft); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: var(--bg-soft); padding: 1px 4px; border-radius: 4px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; white-space: nowrap; color: #fff; background: var(--muted); }
.badge.good { background: var(--ok); } .badge.bad { background: var(--bad); } .badge.warn { background: var(--warn); } .badge.info { background: var(--info); }
.banner { border: 1px solid var(--line); border-left: 4px solid var(--warn); background: #fff8c5; padding: 8px 12px; margin: 12px 0; }
.banner.bad { border-left-color: var(--bad); background: #ffebe9; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 220px; }
.card .title { font-weight: 600; margin-bottom: 4px; }
.chart { margin: 8px 0 20px; overflow-x: auto; }
details { margin: 2px 0; }
details > summary { cursor: pointer; color: var(--info); font-size: 12px; }
details pre { font: 11px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; background: var(--bg-soft); padding: 8px; max-height: 320px; overflow: auto; white-space: pre-wrap; word-break: break-word; }
ul.plain { margin: 4px 0; padding-left: 20px; }
footer { margin-top: 40px; font-size: 12px; color: var(--muted); }
`;

const BOOTSTRAP = `
(function () {
  var state = { views: {}, errors: [], ready: false };
  window.sidecarBench = state;
  var charts = JSON.parse(document.getElementById("sb-charts").textContent);
  var config = JSON.parse(document.getElementById("sb-chart-config").textContent);
  Promise.all(charts.map(function (chart) {
    var spec = Object.assign({}, chart.spec, { config: config });
    return vegaEmbed("#" + chart.id, spec, { actions: false, renderer: "svg" })
      .then(function (result) { state.views[chart.id] = result.view; })
      .catch(function (error) {
        state.errors.push(chart.id + ": " + error.message);
        var el = document.getElementById(chart.id);
        el.textContent = "This chart could not be drawn: " + error.message;
        console.error("chart " + chart.id + ": " + error.message);
      });
  })).then(function () { state.ready = true; document.body.setAttribute("data-charts-ready", "true"); });
})();
`;

/** A <section> holding the chart's title, caption and the element vega-embed draws into. */
export function chartBlock(chart: Chart): string {
  return `<h3>${escapeHtml(chart.title)}</h3>\n<p class="caption">${escapeHtml(chart.caption)}</p>\n<div class="chart" id="${escapeHtml(chart.id)}"></div>`;
}

/** A library's source, checked not to end the inline <script> early. */
function inlineScript(name: string, source: string): string {
  if (/<\/script|<!--|<script/i.test(source)) throw new Error(`${name}: its minified build contains "</script", "<script" or "<!--" and cannot be inlined as is`);
  return `<script>/* ${name} */\n${source}\n</script>`;
}

/** The whole document; `body` is trusted HTML built by the writers (every value in it escaped). */
export function htmlPage(input: { title: string; body: string; charts: Chart[]; footer: string }): string {
  const libraries = chartLibraries();
  const credits = libraries.map((l) => `${l.name} ${l.version}`).join(", ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${input.body}
<footer>${input.footer} Charts: ${escapeHtml(credits)} (BSD-3-Clause), inlined; this file needs no network.</footer>
</main>
<script type="application/json" id="sb-charts">${jsonForScript(input.charts.map(({ id, spec }) => ({ id, spec })))}</script>
<script type="application/json" id="sb-chart-config">${jsonForScript(CHART_CONFIG)}</script>
${libraries.map((l) => inlineScript(l.name, l.source)).join("\n")}
<script>${BOOTSTRAP}</script>
</body>
</html>
`;
}
