// The commands, their flags and their --help (main.ts parses argv with it and maps failures to
// exit codes). Each command's code is imported when the command runs: --version and --help load only
// commander and the constants their help lists (the runtimes, the Kubernetes client, vitest
// and the load generators take seconds to load).
import { Command, InvalidArgumentError } from "commander";
import { join } from "node:path";
import { PRIMARY_NAMES } from "../scenario/named-primaries.ts";
import { PROFILES } from "../conformance/profiles.ts";
import { AVAILABLE_RUNTIMES, POD_ACCESS_MODES, type PodAccessMode } from "../runtime/runtime-names.ts";
import type { KubernetesRequest } from "../runtime/create-runtime.ts";
import { UsageError } from "./usage-error.ts";
import { CLUSTER_ACTIONS, isClusterAction } from "./cluster-actions.ts";
import { withHelp } from "./help-text.ts";
import { PROJECT_ROOT, packageVersion } from "../project-root.ts";

const projectRoot = PROJECT_ROOT;
const version = packageVersion();

/** Defaults inside sidecar-bench itself, found from any working directory; a path the user passes is relative to the working directory. */
export const DEFAULT_SCENARIO = "scenarios/default.yaml";
export const DEFAULT_COMPARE_SCENARIO = "scenarios/compare.yaml";
const fromProject = (file: string | undefined, fallback: string) => file ?? join(projectRoot, fallback);

const RUNTIME_NAMES = AVAILABLE_RUNTIMES.join(", ");
const PRIMARY_HELP = `model server instead of the scenario's spec.primary: ${PRIMARY_NAMES.join(", ")} (the reference primaries) or a Primary manifest file`;
const PRIMARY_VALUES: [string, string[]] = ["--primary", [...PRIMARY_NAMES, "<Primary manifest file>"]];
const REPORTS_HELP = "report folder (default: ./reports/<run-id> in the working directory)";

/** Exit codes shared by the commands that start pods. */
const EXIT_INVALID: [number, string] = [2, "invalid input: a manifest field, a flag or its value (the message names it); nothing started"];
const EXIT_INTERRUPTED: [number, string] = [130, "interrupted (Ctrl-C); pods stopped, what finished is in the report folder"];
const EXIT_NOT_SET_UP = "or this machine lacks what the run needs (the message names it and the command that installs it)";

function positiveInt(flag: string) {
  return (value: string) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError(`${flag} expects a whole number ≥ 1, found "${value}"`);
    return parsed;
  };
}

function nonNegativeInt(flag: string) {
  return (value: string) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError(`${flag} expects a whole number ≥ 0, found "${value}"`);
    return parsed;
  };
}

interface KubernetesFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  podAccess?: PodAccessMode;
}

/** The kubernetes runtime's flags, on every command that starts pods. */
function withKubernetesFlags(command: Command): Command {
  return command
    .option("--kubeconfig <file>", "kubernetes runtime: kubeconfig (default: KUBECONFIG, else ~/.kube/config)")
    .option("--context <name>", "kubernetes runtime: kubeconfig context (default: the current one)")
    .option("--namespace <name>", "kubernetes runtime: put the run's objects in this namespace (default: a namespace per run)")
    .option("--pod-access <mode>", `kubernetes runtime: how checks reach pods: ${POD_ACCESS_MODES.join(", ")} (pod-ip: the harness is on the node)`, (value: string) => {
      if (!(POD_ACCESS_MODES as readonly string[]).includes(value)) throw new InvalidArgumentError(`--pod-access expects ${POD_ACCESS_MODES.join(", ")}, found "${value}"`);
      return value as PodAccessMode;
    });
}

/** Without --kubeconfig the client reads KUBECONFIG (merging its files) or ~/.kube/config, as kubectl does. */
function kubernetesRequest(flags: KubernetesFlags): KubernetesRequest {
  const kubeconfig = flags.kubeconfig;
  const clusterDir = process.env["SIDECAR_BENCH_CLUSTER_DIR"] || undefined;
  return {
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(flags.context ? { context: flags.context } : {}),
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
    ...(flags.podAccess ? { podAccess: flags.podAccess } : {}),
    ...(clusterDir ? { clusterDir } : {}),
  };
}

/** A new program each call (tests render each command's help from it); main.ts parses argv with one. */
export function buildProgram(): Command {
  const program = new Command()
    .name("sidecar-bench")
    .description("Benchmark and conformance suite for sidecars of ML model servers")
    .version(version)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  withHelp(program, {
    exitCodes: [[0, "success"], [1, "a run, a check or a comparison failed, or set-up is missing"], [2, "invalid input (manifest, flag or value)"], [130, "interrupted"]],
    examples: [
      "npm run setup                                   # once: .venv, Envoy, the Go sidecars (add -- --docker for the docker runtime)",
      "sidecar-bench doctor                            # what each runtime needs on this machine",
      "sidecar-bench run                               # scenarios/default.yaml: Envoy vs the bare primary",
      "sidecar-bench certify scenarios/sidecars/envoy.yaml",
      "sidecar-bench compare",
      "sidecar-bench <command> --help",
    ],
  });

  withHelp(
    withKubernetesFlags(program
      .command("run")
      .description("benchmark a scenario: baseline vs each variant, paired interleaved trials, A/A noise floor")
      .argument("[scenario]", `scenario YAML (default: sidecar-bench's ${DEFAULT_SCENARIO}, from any working directory)`)
      .option("--trials <rounds>", "paired rounds (overrides spec.trials.rounds; ≥ 2)", positiveInt("--trials"))
      .option("--seed <seed>", "seed for trial order, arrivals and payload (overrides spec.seed)", nonNegativeInt("--seed"))
      .option("--out <dir>", REPORTS_HELP)
      .option("--runtime <name>", `pod runtime (overrides spec.runtime): ${RUNTIME_NAMES}`)
      .option("--primary <primary>", PRIMARY_HELP)
      .option("--strict", "a threshold whose 95% CI straddles its limit (inconclusive) fails the run too (spec.thresholds)")),
    {
      exitCodes: [[0, "the run finished and no threshold failed"], [1, `a threshold failed (with --strict: or was inconclusive; junit.xml has one case each), or the run failed (a pod did not start, the primary refused the request…), ${EXIT_NOT_SET_UP}`], EXIT_INVALID, EXIT_INTERRUPTED],
      examples: ["sidecar-bench run", "sidecar-bench run scenarios/sidecars-matrix.yaml --trials 10 --out reports/matrix", "sidecar-bench run --primary triton --runtime docker"],
      values: [["--runtime", AVAILABLE_RUNTIMES], PRIMARY_VALUES, ["--pod-access", POD_ACCESS_MODES]],
    },
  ).action(async (scenario: string | undefined, flags: { trials?: number; seed?: number; out?: string; runtime?: string; primary?: string; strict?: boolean } & KubernetesFlags) => {
    const { runCommand } = await import("./run-command.ts");
    const { kubeconfig, context, namespace, podAccess, ...rest } = flags;
    process.exitCode = await runCommand({ scenarioFile: fromProject(scenario, DEFAULT_SCENARIO), ...rest, kubernetes: kubernetesRequest({ kubeconfig, context, namespace, podAccess }), projectRoot, version, calibrationOnly: false });
  });

  withHelp(
    program
      .command("calibrate")
      .description("measure the A/A noise floor: the scenario's baseline against itself, no sidecars")
      .argument("[scenario]", `scenario YAML (default: sidecar-bench's ${DEFAULT_SCENARIO})`)
      .option("--trials <rounds>", "paired rounds", positiveInt("--trials"))
      .option("--seed <seed>", "seed", nonNegativeInt("--seed"))
      .option("--out <dir>", REPORTS_HELP)
      .option("--primary <primary>", PRIMARY_HELP),
    {
      exitCodes: [[0, "the calibration finished"], [1, `the calibration failed, ${EXIT_NOT_SET_UP}`], EXIT_INVALID, EXIT_INTERRUPTED],
      examples: ["sidecar-bench calibrate", "sidecar-bench calibrate --primary triton --trials 10"],
      values: [PRIMARY_VALUES],
    },
  ).action(async (scenario: string | undefined, flags: { trials?: number; seed?: number; out?: string; primary?: string }) => {
    const { runCommand } = await import("./run-command.ts");
    process.exitCode = await runCommand({ scenarioFile: fromProject(scenario, DEFAULT_SCENARIO), ...flags, projectRoot, version, calibrationOnly: true });
  });

  withHelp(
    withKubernetesFlags(program
      .command("certify")
      .description("certify a sidecar: the conformance tests of its roles against the reference primary, and its performance figures")
      .argument("<sidecar>", "Sidecar manifest (YAML)")
      .option("--profile <profiles>", "profile(s) to certify, repeatable or comma-separated (default: lifecycle, resources and the sidecar's roles)", (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
      .option("--runtime <name>", `pod runtime: ${RUNTIME_NAMES}`, "local")
      .option("--out <dir>", REPORTS_HELP)
      .option("--no-performance", "skip the short benchmark (added latency, vCPU, memory, time to ready)")
      .option("--policy <file>", "CertificationPolicy (YAML) whose thresholds decide the verdicts (default: the suite's policy)")
      .option("--primary <primary>", `model server the sidecar shares the pod with: ${PRIMARY_NAMES.join(", ")} (the reference primaries; default fastapi) or a Primary manifest file`)
      .option("--workload <scenario>", "benchmark with this scenario's workload, sweep and trials (token streams, gRPC, a rate sweep, large tensors) instead of the default unary JSON infer at 200 req/s")),
    {
      exitCodes: [[0, "no conformance test failed"], [1, `a test failed or reached no verdict, ${EXIT_NOT_SET_UP}`], EXIT_INVALID, [130, "interrupted (Ctrl-C); pods stopped, the verdicts so far are in the report folder"]],
      examples: [
        "sidecar-bench certify scenarios/sidecars/envoy.yaml",
        "sidecar-bench certify scenarios/sidecars/otelcol.yaml --profile telemetry --no-performance",
        "sidecar-bench certify my-sidecar.yaml --runtime docker --primary triton --out reports/my-sidecar",
      ],
      values: [["--profile", PROFILES], ["--runtime", AVAILABLE_RUNTIMES], PRIMARY_VALUES, ["--pod-access", POD_ACCESS_MODES]],
    },
  ).action(async (sidecar: string, flags: { profile?: string[]; runtime: string; out?: string; performance: boolean; policy?: string; primary?: string; workload?: string } & KubernetesFlags) => {
    const [{ certifyCommand }, { CERTIFY_ENV }] = await Promise.all([import("./certify-command.ts"), import("../conformance/entry-options.ts")]);
    process.exitCode = await certifyCommand({
      ...(flags.primary ? { primary: flags.primary } : {}),
      ...(flags.workload ? { workload: flags.workload } : {}),
      kubernetes: kubernetesRequest(flags),
      sidecarFile: sidecar,
      profiles: flags.profile ?? [],
      runtime: flags.runtime,
      ...(flags.out ? { out: flags.out } : {}),
      ...(flags.policy ? { policyFile: flags.policy } : {}),
      performance: flags.performance,
      projectRoot,
      version,
      // The harness's own tests certify fake checks through the real command line.
      ...(process.env[CERTIFY_ENV.registry] ? { registryModule: process.env[CERTIFY_ENV.registry] } : {}),
    });
  });

  withHelp(
    withKubernetesFlags(program
      .command("compare")
      .description("measure the sidecar vs monolithic vs library table: overhead, isolation, lifecycle, faults, complexity — each claim with a verdict")
      .argument("[scenario]", `scenario YAML with spec.comparison (default: sidecar-bench's ${DEFAULT_COMPARE_SCENARIO})`)
      .option("--trials <rounds>", "paired rounds of the overhead benchmark (overrides spec.trials.rounds; ≥ 2)", positiveInt("--trials"))
      .option("--seed <seed>", "seed for trial order, arrivals, payload and episodes (overrides spec.seed)", nonNegativeInt("--seed"))
      .option("--out <dir>", "report folder (default: ./reports/compare-<run-id> in the working directory)")
      .option("--runtime <name>", `pod runtime (overrides spec.runtime): ${RUNTIME_NAMES}`)
      .option("--no-episodes", "skip the fault episodes (isolation, lifecycle and fault rows become not distinguishable)")),
    {
      exitCodes: [[0, "every claim measured as stated"], [1, `a claim measured differently, or the comparison failed, ${EXIT_NOT_SET_UP}`], EXIT_INVALID, EXIT_INTERRUPTED],
      examples: ["sidecar-bench compare", "sidecar-bench compare --trials 4 --no-episodes", "sidecar-bench compare --runtime docker --out reports/compare-docker"],
      values: [["--runtime", AVAILABLE_RUNTIMES], ["--pod-access", POD_ACCESS_MODES]],
    },
  ).action(async (scenario: string | undefined, flags: { trials?: number; seed?: number; out?: string; runtime?: string; episodes: boolean } & KubernetesFlags) => {
    const { compareCommand } = await import("./compare-command.ts");
    const { kubeconfig, context, namespace, podAccess, ...rest } = flags;
    process.exitCode = await compareCommand({ scenarioFile: fromProject(scenario, DEFAULT_COMPARE_SCENARIO), ...rest, kubernetes: kubernetesRequest({ kubeconfig, context, namespace, podAccess }), projectRoot, version });
  });

  withHelp(
    program
      .command("cluster")
      .description("a real single-node Kubernetes cluster on this machine for --runtime kubernetes: up (build, start, import images), down (stop, restore the host), status, build (the binaries only), images (the project's images a cluster needs, e.g. for kind load docker-image)")
      .argument("<action>", CLUSTER_ACTIONS.join(", "))
      .option("--no-kubeconfig", "leave the user's kubeconfig alone (up adds and selects the context sidecar-bench; down removes it)")
      .option("--json", "status: machine-readable"),
    {
      exitCodes: [[0, "done (status: the cluster runs)"], [1, "the action failed (status: no cluster running)"], [2, "unknown action"]],
      examples: ["sidecar-bench cluster up", "sidecar-bench cluster status --json", "sidecar-bench run --runtime kubernetes", "sidecar-bench cluster down"],
      values: [["<action>", CLUSTER_ACTIONS]],
    },
  ).action(async (action: string, flags: { kubeconfig: boolean; json?: boolean }) => {
    if (!isClusterAction(action)) throw new UsageError(`cluster: expected ${CLUSTER_ACTIONS.join(", ")}, found "${action}"`);
    const { clusterCommand, userKubeconfigPath } = await import("./cluster-command.ts");
    const clusterDir = process.env["SIDECAR_BENCH_CLUSTER_DIR"] || undefined;
    process.exitCode = await clusterCommand({
      action,
      projectRoot,
      ...(clusterDir ? { clusterDir } : {}),
      userKubeconfig: flags.kubeconfig ? userKubeconfigPath(process.env) : null,
      json: flags.json ?? false,
    });
  });

  withHelp(
    program
      .command("report")
      .description("re-render the reports (report.html, report.md, the CSVs) from a run's or a comparison's results.json or a certificate's conformance.json")
      .argument("<results>", "results.json of a run or of a comparison, or conformance.json of a certificate")
      .option("--out <dir>", "where to write (default: the file's folder)"),
    {
      exitCodes: [[0, "written (each file's path on stdout)"], [2, "not a record of this version (the message says which field: kind or schemaVersion)"]],
      examples: ["sidecar-bench report reports/<run-id>/results.json", "sidecar-bench report reports/<run-id>/conformance.json", "sidecar-bench report docs/samples/default/results.json --out /tmp/rerendered"],
    },
  ).action(async (results: string, flags: { out?: string }) => {
    const { reportCommand } = await import("./report-command.ts");
    process.exitCode = reportCommand(results, flags.out);
  });

  withHelp(
    program
      .command("diff")
      .description("the CI gate: the change in each sidecar's overhead (latency, vCPU, memory) from a base run to a head run, with a 95% CI, judged against both runs' A/A noise floors and a tolerance; or the verdict changes between two certificates")
      .argument("<base>", "results.json of the base run, a certificate's conformance.json, or the report folder holding one")
      .argument("<head>", "the same of the head run")
      .option("--tolerance <amount>", "change accepted beyond the noise floors: a share of the base overhead (10%) or a latency (250us, 0.5ms; CPU and memory then keep 10%)", "10%")
      .option("--markdown <file>", "also write the Markdown (e.g. for a pull-request comment)")
      .option("--json <file>", "write the whole comparison as JSON")
      .option("--junit <file>", "write JUnit XML: a case per variant and metric, a failure per regression"),
    {
      exitCodes: [
        [0, "no regression (every change within noise, or an improvement)"],
        [1, "a regression: a change whose whole 95% CI is above the noise floor and the tolerance, a certificate test that passed and now fails, or a certificate whose benchmark measured before and failed now (and nothing else)"],
        [2, "incomparable inputs (the message names the field, e.g. scenario.spec.workload.load.ratePerSec or environment.runtime), nothing to compare (calibration runs, every variant not supported), a malformed or unreadable input (named with its file and field), or bad usage"],
      ],
      examples: [
        "sidecar-bench diff baseline/results.json reports/head/results.json",
        "sidecar-bench diff baseline/ reports/head/ --tolerance 250us --markdown diff.md --junit diff.xml",
        "sidecar-bench diff old-cert/conformance.json new-cert/conformance.json",
      ],
    },
  ).action(async (base: string, head: string, flags: { tolerance: string; markdown?: string; json?: string; junit?: string }) => {
    const { diffCommand } = await import("../diff/diff-command.ts");
    process.exitCode = diffCommand({ base, head, tolerance: flags.tolerance, ...(flags.markdown ? { markdownFile: flags.markdown } : {}), ...(flags.json ? { jsonFile: flags.json } : {}), ...(flags.junit ? { junitFile: flags.junit } : {}) });
  });

  withHelp(
    program
      .command("doctor")
      .description("can each runtime run here? node, .venv, envoy, go, cgroups, CPUs; Docker engine and images (starts nothing; exit 0 when the default runtime is usable)")
      .option("--json", "machine-readable output"),
    {
      exitCodes: [[0, "the default runtime (local) is usable"], [1, "it is not: each failing check says what to run"]],
      examples: ["sidecar-bench doctor", "sidecar-bench doctor --json"],
    },
  ).action(async (flags: { json?: boolean }) => {
    const { doctorCommand } = await import("./doctor-command.ts");
    process.exitCode = await doctorCommand({ projectRoot, version, json: flags.json ?? false });
  });

  withHelp(
    program
      .command("schemas")
      .description("write JSON Schema files of the Sidecar, Primary, Scenario and CertificationPolicy files (for editors)")
      .option("--out <dir>", "folder", "schemas"),
    {
      exitCodes: [[0, "written (each file's path on stdout)"], [1, "the folder could not be written"]],
      examples: ["sidecar-bench schemas --out schemas"],
    },
  ).action(async (flags: { out: string }) => {
    const { writeJsonSchemas } = await import("../scenario/index.ts");
    for (const file of await writeJsonSchemas(flags.out)) process.stdout.write(`${file}\n`);
  });

  return program;
}
