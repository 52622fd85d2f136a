#!/usr/bin/env node
// Entry point. The harness is TypeScript: `npm run setup` compiles it into dist/
// (scripts/build-cli.mjs), which starts in a fraction of the time tsx takes to compile the
// sources. dist/ runs only while no source is newer than it; after an edit the sources run
// through tsx (esbuild), so there is no build step between editing a check and running it.
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { freshCliBundle } from "../scripts/build-cli.mjs";

const projectRoot = dirname(dirname(fileURLToPath(import.meta.url)));

// Before `npm ci`, say so rather than failing on the first package import with a stack trace.
if (!existsSync(new URL("../node_modules/commander/package.json", import.meta.url))) {
  process.stderr.write(`sidecar-bench: its npm dependencies are not installed; run: npm ci && npm run setup (in ${projectRoot})\n`);
  process.exit(1);
}

async function fromSources() {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../harness/cli/main.ts");
}

const bundle = process.env.SIDECAR_BENCH_FROM_SOURCES ? null : freshCliBundle();
if (bundle) {
  // Stack traces name the .ts sources (dist/ has linked source maps).
  process.setSourceMapsEnabled(true);
  try {
    await import(bundle);
  } catch (error) {
    // A chunk of dist/ missing behind a current build-info.json (a partly deleted folder):
    // it fails while the bundle is linked, before any command ran, so the sources can run
    // instead. Errors of a command itself never reach here (main.ts maps them to exit codes).
    if (error?.code !== "ERR_MODULE_NOT_FOUND" || !String(error.message).includes(`${projectRoot}/dist/`)) throw error;
    await fromSources();
  }
} else {
  await fromSources();
}
