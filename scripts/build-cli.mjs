#!/usr/bin/env node
// Compiles the command line (harness/cli/main.ts and the other entries below) into dist/ with
// esbuild, so that bin/sidecar-bench.js starts plain JavaScript instead of compiling TypeScript
// through tsx at every start. npm packages stay external (loaded from node_modules as under tsx).
// dist/build-info.json lists every bundled source with the build's start time: the bin runs
// dist/ only while no source is newer, else it runs the sources through tsx (never stale code).
// Exports buildCli() for setup.mjs; `node scripts/build-cli.mjs` builds too.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Every entry of the bundle, from the project root, with extension. Child processes started with
 * childEntry("harness/load/<file>") (harness/project-root.ts) add their file here: the bundle
 * then holds dist/harness/load/<file>.js beside dist/harness/cli/main.js.
 */
export const CLI_ENTRY_POINTS = ["harness/cli/main.ts", "harness/load/open-loop-process.ts"];

export const DIST_DIR = "dist";
/** What the bin reads to decide whether dist/ is current: { startedAtMs, main, inputs }. */
export const BUILD_INFO_FILE = "build-info.json";
/** esbuild's metafile (inputs, outputs, imports), for `esbuild --analyze`-like inspection. */
export const METAFILE = "metafile.json";
/** Files that change the output without being bundled inputs. */
const BUILD_CONFIG_INPUTS = ["scripts/build-cli.mjs", "tsconfig.json"];

/**
 * The bundle's main module (absolute path) when dist/ holds a build no source is newer than,
 * else null (no build, a source edited, added to an import or deleted since). A few hundred
 * stat calls: about a millisecond, far below what compiling the sources costs.
 */
export function freshCliBundle(projectRoot = root) {
  try {
    const info = JSON.parse(readFileSync(join(projectRoot, DIST_DIR, BUILD_INFO_FILE), "utf8"));
    // Strictly older than the build's start: a file saved while esbuild read it may not be in the bundle.
    for (const input of info.inputs) if (statSync(join(projectRoot, input)).mtimeMs >= info.startedAtMs) return null;
    return join(projectRoot, info.main);
  } catch {
    return null;
  }
}

/** A chunk no current entry imports is removed once this old: a CLI started before a rebuild may still load it. */
const STALE_CHUNK_MS = 60 * 60 * 1000;

/** Every file below `dir` (not folders), as paths relative to it. */
function filesBelow(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath ?? entry.path, entry.name)));
}

/**
 * Builds into a folder of its own, then moves the files into dist/ one rename each: chunks
 * first (content-hashed names, so a CLI already running from the previous build still finds
 * its own when it loads a command's code), then the entries, build-info.json last. Chunks no
 * entry uses any more are deleted after STALE_CHUNK_MS. Returns the build's duration in ms.
 */
export async function buildCli({ say = () => {} } = {}) {
  const { build } = await import("esbuild");
  const startedAtMs = Date.now();
  const outdir = join(root, `${DIST_DIR}.building-${process.pid}`);
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: CLI_ENTRY_POINTS,
    outbase: root,
    outdir,
    entryNames: "[dir]/[name]",
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    // Always: a dynamic import() of a command (program.ts) becomes its own chunk, loaded when the command runs.
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    sourcemap: "linked",
    metafile: true,
    logLevel: "error",
  });
  const inputs = [...Object.keys(result.metafile.inputs), ...BUILD_CONFIG_INPUTS].sort();
  writeFileSync(join(outdir, METAFILE), JSON.stringify(result.metafile));
  const main = relative(root, join(root, DIST_DIR, CLI_ENTRY_POINTS[0].replace(/\.ts$/, ".js")));
  const finalDir = join(root, DIST_DIR);
  const built = filesBelow(outdir);
  const order = (file) => (file.startsWith("chunks/") ? 0 : file === BUILD_INFO_FILE ? 2 : 1);
  for (const file of [...built].sort((a, b) => order(a) - order(b))) {
    mkdirSync(dirname(join(finalDir, file)), { recursive: true });
    renameSync(join(outdir, file), join(finalDir, file));
  }
  writeFileSync(join(finalDir, `${BUILD_INFO_FILE}.${process.pid}`), `${JSON.stringify({ startedAtMs, main, inputs }, null, 1)}\n`);
  renameSync(join(finalDir, `${BUILD_INFO_FILE}.${process.pid}`), join(finalDir, BUILD_INFO_FILE));
  rmSync(outdir, { recursive: true, force: true });
  const current = new Set(built);
  for (const file of filesBelow(finalDir)) {
    if (!file.startsWith("chunks/") || current.has(file)) continue;
    if (Date.now() - statSync(join(finalDir, file)).mtimeMs > STALE_CHUNK_MS) rmSync(join(finalDir, file), { force: true });
  }
  const durationMs = Date.now() - startedAtMs;
  say(`compiled the command line into ${DIST_DIR}/ (${inputs.length} sources, ${durationMs} ms)`);
  return durationMs;
}

/** setup.mjs's step: builds only when dist/ is missing or older than a source. */
export async function ensureCliBuild({ say = () => {} } = {}) {
  if (freshCliBundle() === null) await buildCli({ say });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildCli({ say: (line) => process.stderr.write(`build-cli: ${line}\n`) });
}
