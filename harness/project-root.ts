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

/** tsx's loader module (what `node --import tsx` loads), as a file URL: resolved from here, not from the child's working directory. */
function tsxLoaderUrl(): string {
  const manifestPath = createRequire(join(PROJECT_ROOT, "package.json")).resolve("tsx/package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { exports: Record<string, unknown> };
  const loader = manifest.exports["."];
  if (typeof loader !== "string") throw new Error(`${manifestPath}: exports has no "." entry naming tsx's loader`);
  return pathToFileURL(join(dirname(manifestPath), loader)).href;
}

/**
 * A child process's entry (for child_process.fork), given as a path from the project root
 * without extension ("harness/load/open-loop-process"): the bundle's .js when running compiled
 * (the entry must be in CLI_ENTRY_POINTS of scripts/build-cli.mjs), else the .ts with tsx's
 * loader imported first.
 */
export function childEntry(relPathWithoutExt: string): { modulePath: string; execArgv: string[] } {
  if (RUNNING_COMPILED) return { modulePath: join(DIST_DIR, `${relPathWithoutExt}.js`), execArgv: [] };
  return { modulePath: join(PROJECT_ROOT, `${relPathWithoutExt}.ts`), execArgv: ["--import", tsxLoaderUrl()] };
}

/**
 * The Python environment of the reference components (scripts/setup.mjs makes it; Envoy, Caddy
 * and the Go-built sidecars go into its bin/ too). SIDECAR_BENCH_VENV points elsewhere, e.g. to
 * an empty folder to see what a machine without the set-up is told.
 */
export function venvDir(projectRoot: string = PROJECT_ROOT, env: NodeJS.ProcessEnv = process.env): string {
  return env["SIDECAR_BENCH_VENV"] || join(projectRoot, ".venv");
}
