// Where sidecar-bench's own files are (scenarios/, reference/, protos, node_modules assets),
// whether this module runs as TypeScript under tsx (harness/project-root.ts) or bundled into
// dist/ by scripts/build-cli.mjs: both sit below the folder holding sidecar-bench's package.json.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const PACKAGE_NAME = "sidecar-bench";
/** Folders walked up before giving up: dist/chunks/x.js is 2 levels below the root, harness/a/b/c.ts 3. */
const MAX_LEVELS = 8;

/**
 * The folder holding sidecar-bench's package.json, or null when there is none above `start`: the
 * in-cluster generator (scripts/build-images.mjs bundles harness/load/remote/loadgen-main.ts into
 * an image without the project) imports modules that import this one, and must still start.
 */
function findProjectRoot(start: string): string | null {
  let dir = start;
  for (let level = 0; level < MAX_LEVELS; level += 1) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      const name = (JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name;
      if (name === PACKAGE_NAME) return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}

const HERE = fileURLToPath(import.meta.url);

/**
 * The folder holding sidecar-bench's package.json; outside the project (the generator's image)
 * this module's own folder, where no project file is, so a use fails naming the path it tried.
 */
export const PROJECT_ROOT: string = findProjectRoot(dirname(HERE)) ?? dirname(HERE);

/** Where scripts/build-cli.mjs writes the bundle; its layout mirrors the sources (dist/harness/cli/main.js). */
export const DIST_DIR: string = join(PROJECT_ROOT, "dist");

/** True when this code runs from the compiled bundle rather than the .ts sources. */
export const RUNNING_COMPILED: boolean = !relative(DIST_DIR, HERE).startsWith("..") && !relative(DIST_DIR, HERE).startsWith(sep);

/** The package's version, from package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string }).version;
}

/** tsx's ESM register() module, as a file URL (its package exports map names the .mjs). */
function tsxRegisterUrl(): string {
  const manifestPath = createRequire(join(PROJECT_ROOT, "package.json")).resolve("tsx/package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { exports: Record<string, { import: { default: string } }> };
  const api = manifest.exports["./esm/api"];
  if (!api) throw new Error(`${manifestPath}: exports has no "./esm/api"`);
  return pathToFileURL(join(dirname(manifestPath), api.import.default)).href;
}

/**
 * A worker thread's entry, given as a path from the project root without extension
 * ("harness/load/loadgen-worker"): the bundle's .js when running compiled (the entry must be in
 * CLI_ENTRY_POINTS of scripts/build-cli.mjs), else the .ts loaded through tsx. Node 20 ignores
 * loader flags (--import tsx) in a Worker's execArgv (nodejs/node#47747), so the .ts is started by
 * a data: URL module that registers tsx in the worker and then imports it.
 */
export function workerEntry(relPathWithoutExt: string): { url: URL; execArgv: string[] } {
  if (RUNNING_COMPILED) return { url: pathToFileURL(join(DIST_DIR, `${relPathWithoutExt}.js`)), execArgv: [] };
  const entry = pathToFileURL(join(PROJECT_ROOT, `${relPathWithoutExt}.ts`)).href;
  const bootstrap = `import { register } from ${JSON.stringify(tsxRegisterUrl())}; register(); await import(${JSON.stringify(entry)});`;
  return { url: new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), execArgv: [] };
}

/**
 * The Python environment of the reference components (scripts/setup.mjs makes it; Envoy, Caddy
 * and the Go-built sidecars go into its bin/ too). SIDECAR_BENCH_VENV points elsewhere, e.g. to
 * an empty folder to see what a machine without the set-up is told.
 */
export function venvDir(projectRoot: string = PROJECT_ROOT, env: NodeJS.ProcessEnv = process.env): string {
  return env["SIDECAR_BENCH_VENV"] || join(projectRoot, ".venv");
}
