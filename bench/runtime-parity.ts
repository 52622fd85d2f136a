// Do the runtimes (local, docker, kubernetes) reach the same verdicts? Through the real CLI, one
// command at a time (checks time things; 2 cores): `certify --no-performance` of Envoy,
// Caddy, good-proxy and every faulty fixture in reference/sidecars/, and `run
// scenarios/default.yaml` (its full 20 rounds), on each runtime. Prints a markdown table (and,
// for every row that differs, which verdicts differ and why) on stdout; progress on stderr;
// each finished row also goes to DIR/rows.md (and DIR/differences.md) at once.
//
//   node --import tsx bench/runtime-parity.ts [--only envoy,leaky,default,...] [--runtimes local,docker] [--out DIR]
//
// Needs a Docker engine and the images (node scripts/build-images.mjs); kubernetes, a
// cluster in the current context (sidecar-bench cluster up). ≈ 1.5 h for everything on
// local and docker on 2 cores; a kubernetes certification takes 2–3× a local one.
import { spawn } from "node:child_process";
import { appendFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "bin", "sidecar-bench.js");
const FIXTURE_POLICY = "reference/policies/fixture-sidecars.yaml";

interface Target {
  name: string;
  kind: "certify" | "run";
  file: string;
}

/** What one command on one runtime concluded, reduced to comparable verdicts. */
interface Outcome {
  exitCode: number | null;
  seconds: number;
  /** Test id (certify) or "variant metric" / "variant budget" (run) → verdict. */
  verdicts: Map<string, string>;
  /** Why each verdict is what it is (certify: the check's message). */
  messages: Map<string, string>;
  /** Certify: ids of failed tests. Run: the variants' verdict summary. */
  summary: string;
  outDir: string;
}

function targets(): Target[] {
  const fixtures = readdirSync(join(root, "reference", "sidecars"))
    .filter((f) => f.endsWith(".yaml"))
    .sort((a, b) => (a === "good-proxy.yaml" ? -1 : b === "good-proxy.yaml" ? 1 : a.localeCompare(b)));
  return [
    { name: "envoy", kind: "certify", file: "scenarios/sidecars/envoy.yaml" },
    { name: "caddy", kind: "certify", file: "scenarios/sidecars/caddy.yaml" },
    ...fixtures.map((f): Target => ({ name: basename(f, ".yaml"), kind: "certify", file: `reference/sidecars/${f}` })),
    { name: "default", kind: "run", file: "scenarios/default.yaml" },
  ];
}

function runCli(args: string[], logFile: string): Promise<{ exitCode: number | null; seconds: number }> {
  const began = performance.now();
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  return new Promise((done) => {
    child.on("close", (code) => {
      log.end();
      done({ exitCode: code, seconds: (performance.now() - began) / 1000 });
    });
  });
}

function lastRecordPerId(file: string): Array<{ id: string; verdict: string; message: string }> {
  if (!existsSync(file)) return [];
  const byId = new Map<string, { id: string; verdict: string; message: string }>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      const record = JSON.parse(line) as { id: string; verdict: string; message: string };
      byId.set(record.id, record);
    } catch {
      // A line cut short by a killed writer.
    }
  }
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}

async function certify(target: Target, runtime: string, outDir: string): Promise<Outcome> {
  // The project's fixtures (a Node proxy costs more CPU per request than a production one) are certified as the fixture suite certifies them.
  const policy = target.file.startsWith("reference/sidecars/") ? ["--policy", FIXTURE_POLICY] : [];
  const ended = await runCli(["certify", target.file, "--no-performance", "--runtime", runtime, ...policy, "--out", outDir], `${outDir}.log`);
  const records = lastRecordPerId(join(outDir, "verdicts.jsonl"));
  const failed = records.filter((r) => r.verdict === "failed").map((r) => r.id);
  return {
    ...ended,
    verdicts: new Map(records.map((r) => [r.id, r.verdict])),
    messages: new Map(records.map((r) => [r.id, r.message])),
    summary: records.length === 0 ? "no verdicts" : failed.length === 0 ? "—" : failed.join(", "),
    outDir,
  };
}

interface ResultsJson {
  status: string;
  analysis?: {
    variants: Array<{
      variant: string;
      latency: Record<string, { verdict?: string }>;
      budgetChecks?: Array<{ container: string; budget: string; result: string; measured: number; unit: string }>;
    }>;
  };
}

async function benchmark(target: Target, runtime: string, outDir: string): Promise<Outcome> {
  const ended = await runCli(["run", target.file, "--runtime", runtime, "--out", outDir], `${outDir}.log`);
  const file = join(outDir, "results.json");
  const verdicts = new Map<string, string>();
  const messages = new Map<string, string>();
  if (!existsSync(file)) return { ...ended, verdicts, messages, summary: "no results.json", outDir };
  const results = JSON.parse(readFileSync(file, "utf8")) as ResultsJson;
  verdicts.set("status", results.status);
  for (const variant of results.analysis?.variants ?? []) {
    for (const [metric, estimate] of Object.entries(variant.latency)) verdicts.set(`${variant.variant} ${metric}`, estimate.verdict ?? "?");
    for (const check of variant.budgetChecks ?? []) {
      const key = `${variant.variant} ${check.container}.${check.budget}`;
      verdicts.set(key, check.result);
      messages.set(key, `measured ${check.measured.toFixed(3)} ${check.unit}`);
    }
  }
  const summary = [...verdicts].filter(([key]) => key !== "status").map(([key, verdict]) => `${key.split(" ")[1]} ${verdict}`).join("; ");
  return { ...ended, verdicts, messages, summary: `${results.status}: ${summary}`, outDir };
}

function result(outcome: Outcome, kind: Target["kind"]): string {
  const code = outcome.exitCode === 0 ? (kind === "certify" ? "certified" : "done") : outcome.exitCode === 1 ? (kind === "certify" ? "not certified" : "failed") : `exit ${outcome.exitCode}`;
  return `${code} (${outcome.seconds.toFixed(0)} s): ${outcome.summary}`;
}

function sameVerdicts(a: Outcome, b: Outcome): boolean {
  if (a.exitCode !== b.exitCode || a.verdicts.size !== b.verdicts.size) return false;
  return [...a.verdicts].every(([key, verdict]) => b.verdicts.get(key) === verdict);
}

function differences(outcomes: Outcome[], runtimes: string[]): string[] {
  const keys = [...new Set(outcomes.flatMap((o) => [...o.verdicts.keys()]))].sort();
  return keys
    .filter((key) => new Set(outcomes.map((o) => o.verdicts.get(key) ?? "absent")).size > 1)
    .map((key) => {
      const each = outcomes.map((o, i) => `${runtimes[i]} ${o.verdicts.get(key) ?? "absent"}${o.messages.get(key) ? ` (${o.messages.get(key)!.slice(0, 240)})` : ""}`);
      return `- \`${key}\`: ${each.join("; ")}`;
    });
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: "string" }, runtimes: { type: "string", default: "local,docker" }, out: { type: "string" } } });
  const runtimes = values.runtimes!.split(",").map((r) => r.trim()).filter(Boolean);
  const only = values.only?.split(",").map((n) => n.trim()).filter(Boolean);
  const all = targets();
  const unknown = (only ?? []).filter((name) => !all.some((t) => t.name === name));
  if (unknown.length > 0) throw new Error(`--only: no target ${unknown.join(", ")} (targets: ${all.map((t) => t.name).join(", ")})`);
  // --only also gives the order (the most telling first, should the run be cut short).
  const chosen = only ? only.map((name) => all.find((t) => t.name === name)!) : all;
  const outRoot = resolve(values.out ?? join("/tmp", `runtime-parity-${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}`));
  mkdirSync(outRoot, { recursive: true });
  process.stderr.write(`runtime parity: ${chosen.length} target(s) × ${runtimes.join(", ")} → ${outRoot}\n`);

  const began = performance.now();
  const rows: string[] = [];
  const notes: string[] = [];
  for (const [index, target] of chosen.entries()) {
    const outcomes: Outcome[] = [];
    for (const runtime of runtimes) {
      const outDir = join(outRoot, target.name, runtime);
      mkdirSync(dirname(outDir), { recursive: true });
      const outcome = await (target.kind === "certify" ? certify : benchmark)(target, runtime, outDir);
      process.stderr.write(`[${index + 1}/${chosen.length}] ${target.name} on ${runtime}: ${result(outcome, target.kind)}\n`);
      outcomes.push(outcome);
    }
    const same = outcomes.every((o) => sameVerdicts(o, outcomes[0]!));
    rows.push(`| ${target.file} | ${outcomes.map((o) => cell(result(o, target.kind))).join(" | ")} | ${same ? "yes" : "**no**"} |`);
    // Each finished row is on disk at once: a run cut short keeps what it measured.
    appendFileSync(join(outRoot, "rows.md"), `${rows.at(-1)}\n`);
    if (!same) {
      const found = [`**${target.file}** (logs: ${outcomes.map((o) => relative(process.cwd(), `${o.outDir}.log`)).join(", ")})`, ...differences(outcomes, runtimes)];
      notes.push(...found);
      appendFileSync(join(outRoot, "differences.md"), `${found.join("\n")}\n`);
    }
  }

  const lines = [
    `| manifest | ${runtimes.join(" | ")} | same |`,
    `| --- | ${runtimes.map(() => "---").join(" | ")} | --- |`,
    ...rows,
    "",
    `${chosen.length} target(s) in ${((performance.now() - began) / 60_000).toFixed(1)} min; certify cells: result (wall time): failed test ids; run cells: status: verdict per metric and budget.`,
  ];
  if (notes.length > 0) lines.push("", "### Differences", "", ...notes);
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`runtime-parity: ${(error as Error).message}\n`);
  process.exit(2);
});
