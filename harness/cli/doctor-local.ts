// The local runtime's checks for `doctor`: what the reference components need on this
// machine (node, the .venv's python and packages, envoy, caddy, the Go sidecar), where
// resource figures would come from, and how the CPUs would be split.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { machineCpuCount, planPinning } from "../experiment/cpu-pinning.ts";
import { createRuntime } from "../runtime/create-runtime.ts";
import { probeCommand } from "./doctor-probe.ts";
import { NATIVE_CLOSED_LOOP_PATH } from "../load/closed-loop.ts";
import { venvDir } from "../project-root.ts";
import type { DoctorCheck } from "./doctor-report.ts";

export const SETUP_FIX =
  "npm run setup (creates .venv from reference/requirements.txt, builds the Go sidecar, the closed loop's engine, Caddy, the OpenTelemetry Collector and consul-template, installs Debian's rsyslog, node exporter and Prometheus)";
/** The reference primary's command line imports these (uvicorn --http httptools --loop uvloop, orjson for JSON). */
const PRIMARY_MODULES = ["fastapi", "uvicorn", "numpy", "uvloop", "httptools", "orjson"];
/** compare's monolithic and library variants (request-guard metrics, its SDK). */
const COMPARE_MODULES = ["prometheus_client", "request_guard_sdk"];

export async function localChecks(projectRoot: string): Promise<DoctorCheck[]> {
  const venvBin = join(venvDir(projectRoot), "bin");
  const [python, envoy, caddy, go, roleSidecars] = await Promise.all([
    pythonChecks(projectRoot, venvBin),
    envoyCheck(venvBin),
    caddyCheck(projectRoot, venvBin),
    goCheck(projectRoot),
    Promise.all(ROLE_PROGRAMS.map((program) => roleProgramCheck(program, venvBin))),
  ]);
  return [nodeCheck(), ...python, envoy, caddy, go, closedLoopCheck(projectRoot), ...roleSidecars, accountingCheck(projectRoot), await pinningCheck()];
}

interface RoleProgram {
  name: string;
  /** Absolute, or a name in .venv/bin. */
  path: string;
  versionArgs: string[];
  neededFor: string;
}

/** The telemetry, logs and secrets sidecars and the checks' own tools, all set up by `npm run setup`. */
const ROLE_PROGRAMS: readonly RoleProgram[] = [
  { name: "otelcol", path: "otelcol-sidecar-bench", versionArgs: ["--version"], neededFor: "scenarios/sidecars/otelcol*.yaml" },
  { name: "consul-template", path: "consul-template", versionArgs: ["-version"], neededFor: "scenarios/sidecars/consul-template.yaml" },
  { name: "rsyslog", path: "/usr/sbin/rsyslogd", versionArgs: ["-v"], neededFor: "scenarios/sidecars/rsyslog.yaml" },
  { name: "node exporter", path: "/usr/bin/prometheus-node-exporter", versionArgs: ["--version"], neededFor: "scenarios/sidecars/node-exporter.yaml" },
  { name: "prometheus", path: "/usr/bin/prometheus", versionArgs: ["--version"], neededFor: "the telemetry checks' backend for exposition and remote-write sidecars" },
  { name: "promtool", path: "/usr/bin/promtool", versionArgs: ["--version"], neededFor: "telemetry.exposition-parses" },
];

async function roleProgramCheck(program: RoleProgram, venvBin: string): Promise<DoctorCheck> {
  const path = program.path.startsWith("/") ? program.path : join(venvBin, program.path);
  const result = await probeCommand(path, program.versionArgs);
  if (!result.ok) return { name: program.name, status: "warn", detail: `${path}: ${result.error} (${program.neededFor} needs it)`, fix: SETUP_FIX };
  const version = /v?(\d+\.\d+\.\d+)/.exec(result.stdout)?.[1] ?? result.stdout.split("\n")[0];
  return { name: program.name, status: "ok", detail: `${version} (${path})` };
}

function nodeCheck(): DoctorCheck {
  const major = Number(process.versions.node.split(".")[0]);
  return major >= 20
    ? { name: "node", status: "ok", detail: process.version }
    : { name: "node", status: "fail", detail: `${process.version}, older than 20`, fix: "install Node 20 or newer" };
}

async function pythonChecks(projectRoot: string, venvBin: string): Promise<DoctorCheck[]> {
  const python = join(venvBin, "python");
  const version = await probeCommand(python, ["--version"]);
  if (!version.ok) {
    return [{ name: "python", status: "fail", detail: `.venv/bin/python: ${version.error}`, fix: SETUP_FIX }];
  }
  const stale = venvStale(projectRoot);
  const checks: DoctorCheck[] = [
    stale
      ? { name: "python", status: "warn", detail: `${version.stdout} (.venv/bin/python); .venv predates reference/requirements.txt`, fix: SETUP_FIX }
      : { name: "python", status: "ok", detail: `${version.stdout} (.venv/bin/python)` },
  ];
  // One interpreter start for all imports: each costs ~0.4 s, and the list is short.
  const script = `import importlib, json\nmissing = []\nfor m in ${JSON.stringify([...PRIMARY_MODULES, ...COMPARE_MODULES])}:\n    try: importlib.import_module(m)\n    except Exception: missing.append(m)\nprint(json.dumps(missing))`;
  const imported = await probeCommand(python, ["-c", script], { cwd: projectRoot });
  if (!imported.ok) return [...checks, { name: "packages", status: "fail", detail: `could not import: ${imported.error}`, fix: SETUP_FIX }];
  const missing = JSON.parse(imported.stdout) as string[];
  const primaryMissing = PRIMARY_MODULES.filter((m) => missing.includes(m));
  const compareMissing = COMPARE_MODULES.filter((m) => missing.includes(m));
  checks.push(
    primaryMissing.length === 0
      ? { name: "primary packages", status: "ok", detail: `${PRIMARY_MODULES.join(", ")} import` }
      : { name: "primary packages", status: "fail", detail: `missing ${primaryMissing.join(", ")} (the reference primary needs them)`, fix: SETUP_FIX },
    compareMissing.length === 0
      ? { name: "compare packages", status: "ok", detail: `${COMPARE_MODULES.join(", ")} import` }
      : { name: "compare packages", status: "warn", detail: `missing ${compareMissing.join(", ")} (compare's monolithic and library variants need them)`, fix: SETUP_FIX },
  );
  return checks;
}

/** scripts/setup.mjs stamps .venv with the sha256 of the requirements it installed (after pip succeeded). */
export function venvStale(projectRoot: string): boolean {
  const stamp = join(venvDir(projectRoot), ".requirements.sha256");
  if (!existsSync(stamp)) return true;
  const wanted = createHash("sha256").update(readFileSync(join(projectRoot, "reference", "requirements.txt"))).digest("hex");
  return readFileSync(stamp, "utf8").trim() !== wanted;
}

async function envoyCheck(venvBin: string): Promise<DoctorCheck> {
  const result = await probeCommand(join(venvBin, "envoy"), ["--version"]);
  if (!result.ok) {
    return { name: "envoy", status: "warn", detail: `.venv/bin/envoy: ${result.error} (scenarios/default.yaml and scenarios/sidecars/envoy.yaml need it)`, fix: SETUP_FIX };
  }
  const version = /\/(\d+\.\d+\.\d+)\//.exec(result.stdout)?.[1] ?? result.stdout;
  return { name: "envoy", status: "ok", detail: `${version} (.venv/bin/envoy)` };
}

async function caddyCheck(projectRoot: string, venvBin: string): Promise<DoctorCheck> {
  const result = await probeCommand(join(venvBin, "caddy"), ["version"]);
  if (!result.ok) {
    return { name: "caddy", status: "warn", detail: `.venv/bin/caddy: ${result.error} (scenarios/sidecars/caddy.yaml needs it)`, fix: SETUP_FIX };
  }
  const version = result.stdout.split(" ")[0] ?? result.stdout;
  // scripts/setup.mjs stamps the build with the digest of reference/third-party/caddy.
  const stamp = join(venvDir(projectRoot), ".caddy-sources.sha256");
  const sources = join(projectRoot, "reference", "third-party", "caddy");
  if (!existsSync(stamp) || readFileSync(stamp, "utf8").trim() !== goBuildStamp(sources, { offline: false })) {
    return { name: "caddy", status: "warn", detail: `${version} (.venv/bin/caddy), built from older sources than reference/third-party/caddy`, fix: SETUP_FIX };
  }
  return { name: "caddy", status: "ok", detail: `${version} (.venv/bin/caddy)` };
}

async function goCheck(projectRoot: string): Promise<DoctorCheck> {
  const dir = join(projectRoot, "reference", "integrations", "sidecar-go");
  const binary = join(dir, "bin", "aux-proxy");
  const go = await probeCommand("go", ["version"]);
  const goText = go.ok ? (/go\d+(\.\d+)+/.exec(go.stdout)?.[0] ?? go.stdout) : `go ${go.error}`;
  const need = "compare's sidecar variant runs it";
  if (!existsSync(binary)) {
    return { name: "go sidecar", status: "warn", detail: `${goText}; reference/integrations/sidecar-go/bin/aux-proxy not built (${need})`, fix: SETUP_FIX };
  }
  const stamp = join(dir, "bin", ".sources.sha256");
  if (!existsSync(stamp) || readFileSync(stamp, "utf8").trim() !== goBuildStamp(dir, { offline: true })) {
    return { name: "go sidecar", status: "warn", detail: `${goText}; bin/aux-proxy built from older sources`, fix: SETUP_FIX };
  }
  return { name: "go sidecar", status: "ok", detail: `${goText}; reference/integrations/sidecar-go/bin/aux-proxy built and current` };
}

/** The closed loop's native engine (workload.load.mode closed, on every runtime). */
function closedLoopCheck(projectRoot: string): DoctorCheck {
  const dir = join(projectRoot, "native", "closed-loop");
  const shownPath = relative(projectRoot, NATIVE_CLOSED_LOOP_PATH);
  if (!existsSync(NATIVE_CLOSED_LOOP_PATH)) {
    return { name: "closed loop", status: "warn", detail: `${shownPath} not built (load mode closed runs it; setup builds it with cargo)`, fix: SETUP_FIX };
  }
  // As scripts/setup.mjs (ensureNativeClosedLoop) stamps it: Cargo.toml, Cargo.lock and src/, names included.
  const hash = createHash("sha256");
  for (const file of ["Cargo.toml", "Cargo.lock", ...readdirSync(join(dir, "src")).sort().map((f) => join("src", f))]) {
    hash.update(`${file}\0`).update(readFileSync(join(dir, file))).update("\0");
  }
  const stamp = join(dir, "target", ".sources.sha256");
  if (!existsSync(stamp) || readFileSync(stamp, "utf8").trim() !== hash.digest("hex")) {
    return { name: "closed loop", status: "warn", detail: `${shownPath} built from older sources than native/closed-loop`, fix: SETUP_FIX };
  }
  return { name: "closed loop", status: "ok", detail: `${shownPath} built and current` };
}

/** As scripts/setup.mjs digests a Go module's sources: go.mod (and `extra` files) and the non-test sources, names included. */
function goSourcesDigest(dir: string, extra: string[] = []): string {
  const files = ["go.mod", ...extra, ...readdirSync(dir).filter((name) => name.endsWith(".go") && !name.endsWith("_test.go")).sort()];
  const hash = createHash("sha256");
  for (const name of files) hash.update(`${name}\0`).update(readFileSync(join(dir, name))).update("\0");
  return hash.digest("hex");
}

/**
 * The stamp scripts/setup.mjs (ensureGoBuild) writes beside a Go build: the sources' digest
 * with the build flags and package. Comparing the stamp with the sources' digest alone (as
 * this file did) called every build "from older sources".
 */
function goBuildStamp(dir: string, build: { offline: boolean; pkg?: string }): string {
  const flags = ["-trimpath", "-buildvcs=false", ...(build.offline ? [] : ["-mod=readonly"])];
  return createHash("sha256")
    .update(goSourcesDigest(dir, build.offline ? [] : ["go.sum"]))
    .update(`\0${flags.join(" ")}\0${build.pkg ?? "."}`)
    .digest("hex");
}

/** Asks the local runtime itself, so the answer is what `run` would use. */
function accountingCheck(projectRoot: string): DoctorCheck {
  // The runtime writes under workDir only when a pod starts, which never happens here.
  const { accounting } = createRuntime({ name: "local", workDir: join(tmpdir(), "sidecar-bench-doctor"), projectRoot });
  return accounting === "proc"
    ? {
        name: "accounting",
        status: "warn",
        detail: "from /proc (no writable cgroup hierarchy with cpu and memory): figures per process tree, resource limits not enforced",
        fix: "run as root or delegate a cgroup subtree to this user",
      }
    : { name: "accounting", status: "ok", detail: `${accounting}: CPU and memory per container, limits enforceable` };
}

async function pinningCheck(): Promise<DoctorCheck> {
  const plan = planPinning("split");
  const cpus = `${machineCpuCount()} CPU${machineCpuCount() === 1 ? "" : "s"}`;
  if (plan.mode === "none") return { name: "cpus", status: "info", detail: `${cpus}; ${plan.description}` };
  const taskset = await probeCommand("taskset", ["--version"]);
  return taskset.ok
    ? { name: "cpus", status: "info", detail: `${cpus}; pinning split: ${plan.description}` }
    : { name: "cpus", status: "warn", detail: `${cpus}; taskset ${taskset.error}, so runs go unpinned`, fix: "install util-linux (taskset)" };
}
