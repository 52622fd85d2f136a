// actionlint (MIT, github.com/rhysd/actionlint), the linter `npm test` runs on the GitHub
// Actions example (examples/github-actions/), built from the Go module proxy into
// .cache/actionlint/<version>/ so that a second set-up costs nothing; and Debian's
// shellcheck, which actionlint runs on every `run:` script when it finds it on PATH (the
// test passes its path explicitly). Only `npm test`'s set-up calls this (setup.mjs --lint):
// benchmarking needs neither.
// Plain Node with no dependencies, like scripts/setup.mjs.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The actionlint module version built (one the Go module proxy serves). */
export const ACTIONLINT_VERSION = "v1.7.12";
const MODULE = "github.com/rhysd/actionlint/cmd/actionlint";
/** Debian's shellcheck: actionlint's -shellcheck flag takes this path. */
export const SHELLCHECK_PATH = "/usr/bin/shellcheck";
/** A module download and build of about 1 min on 2 cores; a stuck proxy must not hang set-up. */
const BUILD_TIMEOUT_MS = 10 * 60_000;
const APT_TIMEOUT_MS = 5 * 60_000;

/** Where the binary of ACTIONLINT_VERSION lives, relative to the project root. */
export const ACTIONLINT_RELATIVE_PATH = join(".cache", "actionlint", ACTIONLINT_VERSION, "actionlint");

function ensureActionlintBinary(root, say) {
  const dir = join(root, ".cache", "actionlint", ACTIONLINT_VERSION);
  const binary = join(root, ACTIONLINT_RELATIVE_PATH);
  const stamp = join(dir, ".version");
  if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === ACTIONLINT_VERSION) return;
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
  } catch {
    throw new Error(`the Go toolchain is needed to build actionlint ${ACTIONLINT_VERSION} (the workflow linter of npm test); install it and make sure \`go\` is on PATH`);
  }
  say(`building actionlint ${ACTIONLINT_VERSION} from the Go module proxy into ${dir}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync("go", ["install", "-trimpath", "-ldflags", "-s -w", `${MODULE}@${ACTIONLINT_VERSION}`], {
    stdio: ["ignore", "inherit", "inherit"],
    timeout: BUILD_TIMEOUT_MS,
    // -mod=mod: `go install pkg@version` resolves the module's own go.mod, never this project's.
    env: { ...process.env, GOBIN: dir, GOFLAGS: "-mod=mod", CGO_ENABLED: "0", GOTOOLCHAIN: "local" },
  });
  writeFileSync(stamp, `${ACTIONLINT_VERSION}\n`);
}

function ensureShellcheck(say) {
  if (existsSync(SHELLCHECK_PATH)) return;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
  if (!isRoot || !hasApt) {
    throw new Error(`Debian's shellcheck (${SHELLCHECK_PATH}) is needed to lint the workflow's run: scripts; install it: ${hasApt ? "sudo " : ""}apt-get install shellcheck`);
  }
  say("installing Debian's shellcheck (actionlint lints run: scripts with it)");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const apt = (args) => {
    // Waits for another apt-get (a parallel set-up step) rather than failing on its lock.
    const result = spawnSync("apt-get", ["-o", "DPkg::Lock::Timeout=180", ...args], { stdio: ["ignore", "ignore", "inherit"], timeout: APT_TIMEOUT_MS, env });
    return result.status === 0;
  };
  // The package lists may already be fresh (debian-packages.mjs updates them when it installs): try without an update first.
  if (!apt(["install", "-y", "-qq", "--no-install-recommends", "shellcheck"])) {
    if (!apt(["update", "-qq"]) || !apt(["install", "-y", "-qq", "--no-install-recommends", "shellcheck"])) {
      throw new Error("apt-get install shellcheck failed (its messages are above)");
    }
  }
}

export function ensureActionlint({ root, say }) {
  ensureActionlintBinary(root, say);
  ensureShellcheck(say);
}

// `node scripts/actionlint-setup.mjs`: this step alone (what the workflow test's message suggests).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    ensureActionlint({ root: join(dirname(fileURLToPath(import.meta.url)), ".."), say: (line) => process.stderr.write(`setup: ${line}\n`) });
  } catch (error) {
    process.stderr.write(`setup: failed: ${error.message}\n`);
    process.exit(1);
  }
}
