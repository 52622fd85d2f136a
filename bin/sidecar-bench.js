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

const bundle = process.env.SIDECAR_BENCH_FROM_SOURCES ? null : freshCliBundle();
if (bundle) {
  // Stack traces name the .ts sources (dist/ has linked source maps).
  process.setSourceMapsEnabled(true);
  await import(bundle);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../harness/cli/main.ts");
}
