// Debian's Chromium, the browser `npm test` opens the HTML reports in (driven by
// playwright-core, which downloads no browser of its own here). Only `npm test`'s set-up
// calls this (setup.mjs with --docker): running benchmarks needs no browser.
// Installed with apt-get when missing and this is root; otherwise the error says what to do.
// Plain Node with no dependencies, like scripts/setup.mjs.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Where Debian's chromium package puts the browser (harness/report/html/report-browser.ts opens it). */
export const CHROMIUM_PATH = "/usr/bin/chromium";
/** The package and its recommends (fonts among them) are a few hundred MiB from the mirror. */
const APT_TIMEOUT_MS = 10 * 60_000;

function apt(args) {
  const result = spawnSync("apt-get", args, { stdio: ["ignore", "inherit", "inherit"], timeout: APT_TIMEOUT_MS, env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  return result.status === 0;
}

export function ensureChromium({ say }) {
  const wanted = process.env.SIDECAR_BENCH_CHROMIUM ?? CHROMIUM_PATH;
  if (existsSync(wanted)) return;
  if (wanted !== CHROMIUM_PATH || process.getuid?.() !== 0) {
    throw new Error(`no browser at ${wanted}; the HTML report tests need Chromium: install Debian's chromium package (apt-get install chromium), or set SIDECAR_BENCH_CHROMIUM to a Chromium binary`);
  }
  say("installing Debian's chromium (the browser the HTML report tests open reports in)");
  // A stale package list names versions the mirror no longer has: update once and retry.
  if (!apt(["install", "-y", "chromium"]) && !(apt(["update"]) && apt(["install", "-y", "chromium"]))) {
    throw new Error("apt-get install chromium failed (see above); the HTML report tests need it");
  }
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`apt-get installed chromium, but ${CHROMIUM_PATH} is not there`);
}
