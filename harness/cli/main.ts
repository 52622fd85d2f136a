// The command line: the one place that reads argv, the environment and the clock's
// run id, and maps failures to exit codes (0 ok, 1 failed run, 2 invalid input,
// 130 interrupted).
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ManifestError } from "../scenario/index.ts";
import { CERTIFY_ENV } from "../conformance/entry-options.ts";
import { certifyCommand } from "./certify-command.ts";
import { compareCommand } from "./compare-command.ts";
import { doctorCommand } from "./doctor-command.ts";
import { runCommand } from "./run-command.ts";
import { PRIMARY_NAMES } from "../scenario/named-primaries.ts";
import { reportCommand } from "./report-command.ts";
import { writeJsonSchemas } from "../scenario/index.ts";
import { UsageError } from "./usage-error.ts";
import { AVAILABLE_RUNTIMES, type KubernetesRequest } from "../runtime/create-runtime.ts";
import { clusterCommand, userKubeconfigPath } from "./cluster-command.ts";

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const version = (JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { version: string }).version;

const RUNTIME_NAMES = AVAILABLE_RUNTIMES.join(", ");
const PRIMARY_HELP = `model server instead of the scenario's spec.primary: ${PRIMARY_NAMES.join(", ")} (the reference primaries) or a Primary manifest file`;

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
  podAccess?: "auto" | "pod-ip" | "port-forward";
}

/** The kubernetes runtime's flags, on every command that starts pods. */
function withKubernetesFlags(command: Command): Command {
  return command
    .option("--kubeconfig <file>", "kubernetes runtime: kubeconfig (default: KUBECONFIG, else ~/.kube/config)")
    .option("--context <name>", "kubernetes runtime: kubeconfig context (default: the current one)")
    .option("--namespace <name>", "kubernetes runtime: put the run's objects in this namespace (default: a namespace per run)")
    .option("--pod-access <mode>", "kubernetes runtime: how checks reach pods: auto, pod-ip (the harness is on the node) or port-forward", (value: string) => {
      if (value !== "auto" && value !== "pod-ip" && value !== "port-forward") throw new InvalidArgumentError(`--pod-access expects auto, pod-ip or port-forward, found "${value}"`);
      return value;
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

const program = new Command()
  .name("sidecar-bench")
  .description("Benchmark and conformance suite for sidecars of ML model servers")
  .version(version)
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text) });

withKubernetesFlags(program
  .command("run")
  .description("benchmark a scenario: baseline vs each variant, paired interleaved trials, A/A noise floor")
  .argument("[scenario]", "scenario YAML", "scenarios/default.yaml")
  .option("--trials <rounds>", "paired rounds (overrides spec.trials.rounds; ≥ 2)", positiveInt("--trials"))
  .option("--seed <seed>", "seed for trial order, arrivals and payload (overrides spec.seed)", nonNegativeInt("--seed"))
  .option("--out <dir>", "report folder (default reports/<run-id>)")
  .option("--runtime <name>", `pod runtime (overrides spec.runtime): ${RUNTIME_NAMES}`)
  .option("--primary <primary>", PRIMARY_HELP))
  .action(async (scenario: string, flags: { trials?: number; seed?: number; out?: string; runtime?: string; primary?: string } & KubernetesFlags) => {
    const { kubeconfig, context, namespace, podAccess, ...rest } = flags;
    process.exitCode = await runCommand({ scenarioFile: scenario, ...rest, kubernetes: kubernetesRequest({ kubeconfig, context, namespace, podAccess }), projectRoot, version, calibrationOnly: false });
  });

program
  .command("calibrate")
  .description("measure the A/A noise floor: the scenario's baseline against itself, no sidecars")
  .argument("[scenario]", "scenario YAML", "scenarios/default.yaml")
  .option("--trials <rounds>", "paired rounds", positiveInt("--trials"))
  .option("--seed <seed>", "seed", nonNegativeInt("--seed"))
  .option("--out <dir>", "report folder")
  .option("--primary <primary>", PRIMARY_HELP)
  .action(async (scenario: string, flags: { trials?: number; seed?: number; out?: string; primary?: string }) => {
    process.exitCode = await runCommand({ scenarioFile: scenario, ...flags, projectRoot, version, calibrationOnly: true });
  });

withKubernetesFlags(program
  .command("certify")
  .description("certify a sidecar: the conformance tests of its roles against the reference primary, and its performance figures")
  .argument("<sidecar>", "Sidecar manifest (YAML)")
  .option("--profile <profiles>", "profile(s) to certify, repeatable or comma-separated (default: lifecycle, resources and the sidecar's roles)", (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
  .option("--runtime <name>", `pod runtime: ${RUNTIME_NAMES}`, "local")
  .option("--out <dir>", "report folder (default reports/<run-id>)")
  .option("--no-performance", "skip the short benchmark (added latency, vCPU, memory, time to ready)")
  .option("--policy <file>", "CertificationPolicy (YAML) whose thresholds decide the verdicts (default: the suite's policy)")
  .option("--primary <primary>", `model server the sidecar shares the pod with: ${PRIMARY_NAMES.join(", ")} (the reference primaries; default fastapi) or a Primary manifest file`)
  .option("--workload <scenario>", "benchmark with this scenario's workload, sweep and trials (token streams, gRPC, a rate sweep, large tensors) instead of the default unary JSON infer at 200 req/s"))
  .action(async (sidecar: string, flags: { profile?: string[]; runtime: string; out?: string; performance: boolean; policy?: string; primary?: string; workload?: string } & KubernetesFlags) => {
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

withKubernetesFlags(program
  .command("compare")
  .description("measure the sidecar vs monolithic vs library table: overhead, isolation, lifecycle, faults, complexity — each claim with a verdict")
  .argument("[scenario]", "scenario YAML with spec.comparison", "scenarios/compare.yaml")
  .option("--trials <rounds>", "paired rounds of the overhead benchmark (overrides spec.trials.rounds; ≥ 2)", positiveInt("--trials"))
  .option("--seed <seed>", "seed for trial order, arrivals, payload and episodes (overrides spec.seed)", nonNegativeInt("--seed"))
  .option("--out <dir>", "report folder (default reports/compare-<run-id>)")
  .option("--runtime <name>", `pod runtime (overrides spec.runtime): ${RUNTIME_NAMES}`)
  .option("--no-episodes", "skip the fault episodes (isolation, lifecycle and fault rows become not distinguishable)"))
  .action(async (scenario: string, flags: { trials?: number; seed?: number; out?: string; runtime?: string; episodes: boolean } & KubernetesFlags) => {
    const { kubeconfig, context, namespace, podAccess, ...rest } = flags;
    process.exitCode = await compareCommand({ scenarioFile: scenario, ...rest, kubernetes: kubernetesRequest({ kubeconfig, context, namespace, podAccess }), projectRoot, version });
  });

program
  .command("cluster")
  .description("a real single-node Kubernetes cluster on this machine for --runtime kubernetes: up (build, start, import images), down (stop, restore the host), status, build (the binaries only), images (the project's images a cluster needs, e.g. for kind load docker-image)")
  .argument("<action>", "up, down, status, build or images")
  .option("--no-kubeconfig", "leave the user's kubeconfig alone (up adds and selects the context sidecar-bench; down removes it)")
  .option("--json", "status: machine-readable")
  .action(async (action: string, flags: { kubeconfig: boolean; json?: boolean }) => {
    if (action !== "up" && action !== "down" && action !== "status" && action !== "build" && action !== "images") {
      throw new UsageError(`cluster: expected up, down, status, build or images, found "${action}"`);
    }
    const clusterDir = process.env["SIDECAR_BENCH_CLUSTER_DIR"] || undefined;
    process.exitCode = await clusterCommand({
      action,
      projectRoot,
      ...(clusterDir ? { clusterDir } : {}),
      userKubeconfig: flags.kubeconfig ? userKubeconfigPath(process.env) : null,
      json: flags.json ?? false,
    });
  });

program
  .command("report")
  .description("re-render a run's reports (trials.csv, summary.csv, report.md) from its results.json")
  .argument("<results>", "results.json of a run")
  .option("--out <dir>", "where to write (default: the folder of results.json)")
  .action((results: string, flags: { out?: string }) => {
    process.exitCode = reportCommand(results, flags.out);
  });

program
  .command("doctor")
  .description("can each runtime run here? node, .venv, envoy, go, cgroups, CPUs; Docker engine and images (starts nothing; exit 0 when the default runtime is usable)")
  .option("--json", "machine-readable output")
  .action(async (flags: { json?: boolean }) => {
    process.exitCode = await doctorCommand({ projectRoot, version, json: flags.json ?? false });
  });

program
  .command("schemas")
  .description("write JSON Schema files of the Sidecar, Primary, Scenario and CertificationPolicy files (for editors)")
  .option("--out <dir>", "folder", "schemas")
  .action(async (flags: { out: string }) => {
    for (const file of await writeJsonSchemas(flags.out)) process.stdout.write(`${file}\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof ManifestError || error instanceof UsageError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`sidecar-bench: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
