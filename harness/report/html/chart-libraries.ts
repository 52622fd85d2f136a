// The chart libraries inlined into every report.html (no CDN: a report opens offline,
// from a file): the minified browser builds of vega, vega-lite and vega-embed (all
// BSD-3-Clause), read from node_modules through Node's resolution at render time.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "../../project-root.ts";

/** Script order matters: vega-lite and vega-embed read the `vega` (and `vegaLite`) globals. */
export const CHART_LIBRARIES = [
  { name: "vega", file: "build/vega.min.js" },
  { name: "vega-lite", file: "build/vega-lite.min.js" },
  { name: "vega-embed", file: "build/vega-embed.min.js" },
] as const;

/** Most levels between a package's resolved entry and its package.json (vega-lite/build/index.js: 1). */
const MAX_LEVELS = 4;

/** A package's folder: its exports map hides package.json, so walk up from the resolved entry. */
function packageDir(name: string): string {
  const require = createRequire(join(PROJECT_ROOT, "package.json"));
  let dir = dirname(require.resolve(name));
  for (let level = 0; level < MAX_LEVELS; level += 1) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === name) return dir;
    dir = dirname(dir);
  }
  throw new Error(`${name}: no package.json within ${MAX_LEVELS} folders of its entry; run npm ci`);
}

let cached: Array<{ name: string; version: string; source: string }> | null = null;

/** Each library's name, version and minified source (read once per process). */
export function chartLibraries(): Array<{ name: string; version: string; source: string }> {
  cached ??= CHART_LIBRARIES.map(({ name, file }) => {
    const dir = packageDir(name);
    const version = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
    return { name, version, source: readFileSync(join(dir, file), "utf8") };
  });
  return cached;
}
