// Do our primaries and proxies answer a client we did not write as they answer ours?
// tritonclient (the Triton project's HTTP and gRPC clients) sends the same inputs to each
// reference primary directly and through each proxy sidecar of a scenario (default
// scenarios/large-tensor.yaml: Envoy and Caddy), on the local runtime; the table says, per
// case, whether each answer is the direct one byte for byte (bench/output-agreement.ts).
//
//   node --import tsx bench/tritonclient-crosscheck.ts [--scenario scenarios/large-tensor.yaml] [--primary fastapi --primary triton]
//
// Exit 0 when nothing differs, every direct answer is right and every HTTP request through a
// proxy is answered; 1 otherwise. gRPC through a proxy that cannot carry it (Caddy as
// configured here) is "no answer", shown, not failed.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { markdownTable } from "../harness/report/markdown-writer.ts";
import { createRuntime } from "../harness/runtime/create-runtime.ts";
import type { StartedPod } from "../harness/runtime/pod-runtime.ts";
import { loadScenario, PRIMARY_CONTAINER, toPodSpec } from "../harness/scenario/index.ts";
import { NAMED_PRIMARIES, PRIMARY_NAMES, type PrimaryName } from "../harness/scenario/named-primaries.ts";
import { runBoundedChild } from "./bounded-child.ts";
import { describe, identityProblem, judge, type OutputRow } from "./output-agreement.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CLIENT_TIMEOUT_MS = 180_000;

export interface Target {
  /** <primary>/<arm>, e.g. triton/envoy. */
  name: string;
  /** host:port for tritonclient.http and tritonclient.grpc. */
  http: string;
  grpc: string | null;
}

/** Starts every primary × arm pod of `scenarioFile` on the local runtime, asks tritonclient, stops them. */
export async function collectOutputs(options: { scenarioFile: string; primaries: PrimaryName[]; runId: string; signal?: AbortSignal }): Promise<OutputRow[]> {
  const { runtime } = createRuntime({ name: "local", workDir: mkdtempSync(join(tmpdir(), `sidecar-bench-${options.runId}-`)), projectRoot: root });
  const hostPort = (url: string) => new URL(url).host;
  try {
    await runtime.reapOrphans();
    const targets: Target[] = [];
    for (const primary of options.primaries) {
      const scenario = await loadScenario(options.scenarioFile, { primaryFile: resolve(root, NAMED_PRIMARIES[primary]) });
      for (const variant of [scenario.baseline, ...scenario.variants]) {
        const pod: StartedPod = await runtime.startPod(toPodSpec(scenario, variant.name, options.runId, { podName: `${primary}-${variant.name}` }));
        const entry = pod.url(variant.entry.container, variant.entry.port);
        // Direct: the primary's own grpc port; through a sidecar: its one entry (Envoy routes gRPC there by content-type).
        const grpc = variant.entry.container === PRIMARY_CONTAINER ? pod.url(PRIMARY_CONTAINER, "grpc") : entry;
        targets.push({ name: `${primary}/${variant.name}`, http: hostPort(entry), grpc: hostPort(grpc) });
      }
    }
    return await askTritonclient(targets, options.signal);
  } finally {
    await runtime.stopAll();
  }
}

async function askTritonclient(targets: Target[], signal?: AbortSignal): Promise<OutputRow[]> {
  const { stdout: output } = await runBoundedChild({
    name: "bench/tritonclient_outputs.py",
    command: join(root, ".venv", "bin", "python"),
    args: [join(root, "bench", "tritonclient_outputs.py")],
    stdin: JSON.stringify({ targets }),
    timeoutMs: CLIENT_TIMEOUT_MS,
    ...(signal ? { signal } : {}),
  });
  return output
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as OutputRow);
}

export interface Crosscheck {
  markdown: string;
  /** What makes the cross-check fail: a differing answer, a wrong or missing direct answer. */
  problems: string[];
}

/** Rows: cases; columns: each primary direct and through each sidecar, then the primaries against each other. */
export function crosscheckTable(rows: OutputRow[]): Crosscheck {
  const targets = [...new Set(rows.map((r) => r.target))];
  const primaries = [...new Set(targets.map((t) => t.split("/")[0]!))];
  const cases = [...new Set(rows.map((r) => r.case))];
  const find = (target: string, name: string) => rows.find((r) => r.target === target && r.case === name);
  const problems: string[] = [];
  const lines = cases.map((name) => {
    const cells: string[] = [name];
    const directs: OutputRow[] = [];
    for (const primary of primaries) {
      const direct = find(`${primary}/baseline`, name);
      if (!direct?.ok) {
        problems.push(`${primary}/baseline ${name}: ${direct?.error ?? "not asked"}`);
        cells.push(`no answer`);
      } else {
        const wrong = identityProblem(direct);
        if (wrong) problems.push(wrong);
        cells.push(wrong ? "wrong (not its input)" : `${direct.datatype}[${direct.shape!.join("×")}] ${direct.sha256!.slice(0, 8)}`);
        directs.push(direct);
      }
      for (const target of targets.filter((t) => t.startsWith(`${primary}/`) && t !== `${primary}/baseline`)) {
        const row = find(target, name);
        if (!row || !direct?.ok) {
          cells.push("–");
          continue;
        }
        const judgement = judge(row, direct);
        // gRPC through a proxy that speaks HTTP/1.1 only is shown, not failed; HTTP must be answered.
        if (judgement.verdict === "differs" || (judgement.verdict === "no answer" && row.protocol !== "grpc")) problems.push(`${target} ${name}: ${describe(judgement)}`);
        cells.push(describe(judgement));
      }
    }
    if (directs.length >= 2) {
      const across = judge(directs[1]!, directs[0]!, { closeEnough: true });
      if (across.verdict === "differs") problems.push(`${directs[1]!.target} vs ${directs[0]!.target} ${name}: ${describe(across)}`);
      cells.push(describe(across));
    }
    return cells;
  });
  const header = ["case"];
  for (const primary of primaries) {
    header.push(`${primary} direct (sha256)`);
    for (const target of targets.filter((t) => t.startsWith(`${primary}/`) && t !== `${primary}/baseline`)) header.push(`${target}`);
  }
  if (primaries.length >= 2) header.push(`${primaries[1]} vs ${primaries[0]} direct`);
  return { markdown: markdownTable(header, lines), problems };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scenario: { type: "string", default: "scenarios/large-tensor.yaml" },
      primary: { type: "string", multiple: true, default: ["fastapi", "triton"] },
    },
  });
  const primaries = values.primary.map((name) => {
    if (!(PRIMARY_NAMES as string[]).includes(name)) throw new Error(`--primary: expected one of ${PRIMARY_NAMES.join(", ")}, got ${JSON.stringify(name)}`);
    return name as PrimaryName;
  });
  const abort = new AbortController();
  process.once("SIGINT", () => abort.abort());
  const rows = await collectOutputs({ scenarioFile: resolve(values.scenario), primaries, runId: `tritonclient-${process.pid}`, signal: abort.signal });
  const { markdown, problems } = crosscheckTable(rows);
  process.stdout.write(`tritonclient against ${primaries.join(" and ")}, directly and through ${values.scenario}'s sidecars\n\n${markdown}\n`);
  for (const problem of problems) process.stderr.write(`problem: ${problem}\n`);
  return abort.signal.aborted ? 130 : problems.length > 0 ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`tritonclient-crosscheck: ${error.message}\n`);
      process.exit(1);
    },
  );
}
