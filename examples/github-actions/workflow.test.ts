// The GitHub Actions example stays true: actionlint (with shellcheck on its run: scripts)
// finds nothing in it and does find the faults of a broken copy, and every sidecar-bench
// command line in it names a command and options the CLI's own --help lists.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ACTIONLINT_RELATIVE_PATH, ACTIONLINT_VERSION, SHELLCHECK_PATH } from "../../scripts/actionlint-setup.mjs";
import { PROJECT_ROOT } from "../../harness/project-root.ts";
import { type CommandHelp, invocationProblems, parseCommandHelp, workflowInvocations } from "./cli-invocations.ts";

const run = promisify(execFile);
const WORKFLOW = join(PROJECT_ROOT, "examples", "github-actions", "sidecar-bench.yml");
const ACTIONLINT = join(PROJECT_ROOT, ACTIONLINT_RELATIVE_PATH);
/** Each --help starts the CLI once (about 2 s under tsx on a loaded machine). */
const HELP_TIMEOUT_MS = 30_000;
const LINT_TIMEOUT_MS = 30_000;

/** One actionlint finding (its `-format '{{json .}}'` output). */
interface Finding {
  message: string;
  filepath: string;
  line: number;
  kind: string;
}

/** actionlint's findings on `files`: exit 0 means none, 1 some; anything else is an error of its own. */
async function actionlint(files: string[]): Promise<Finding[]> {
  if (!existsSync(ACTIONLINT)) {
    throw new Error(`actionlint ${ACTIONLINT_VERSION} is not built at ${ACTIONLINT_RELATIVE_PATH}: run \`node scripts/actionlint-setup.mjs\` (npm test's set-up does)`);
  }
  if (!existsSync(SHELLCHECK_PATH)) throw new Error(`shellcheck is not at ${SHELLCHECK_PATH}: run \`node scripts/actionlint-setup.mjs\` (npm test's set-up does)`);
  const args = ["-no-color", "-shellcheck", SHELLCHECK_PATH, "-format", "{{json .}}", ...files];
  try {
    const { stdout } = await run(ACTIONLINT, args, { cwd: PROJECT_ROOT, timeout: LINT_TIMEOUT_MS });
    return JSON.parse(stdout || "[]") as Finding[];
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (failed.code === 1 && failed.stdout) return JSON.parse(failed.stdout) as Finding[];
    throw new Error(`actionlint failed (exit ${failed.code}): ${failed.stderr ?? String(error)}`);
  }
}

const describeFindings = (findings: Finding[]) => findings.map((f) => `${f.filepath}:${f.line} [${f.kind}] ${f.message}`).join("\n");

describe("examples/github-actions/sidecar-bench.yml under actionlint", () => {
  it("has no findings, shellcheck's included", async () => {
    const findings = await actionlint([WORKFLOW]);
    expect(describeFindings(findings)).toBe("");
  });

  describe("a broken copy", () => {
    let dir = "";
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "sidecar-bench-workflow-"));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("is rejected for a misspelt key, a wrong expression and an unquoted variable", async () => {
      const original = readFileSync(WORKFLOW, "utf8");
      // Each fault replaces one exact piece of the real workflow, so the copy follows it as it changes.
      const faults = [
        { from: "    runs-on: ubuntu-latest\n", to: "    runs-onn: ubuntu-latest\n", kind: "syntax-check", message: /unexpected key "runs-onn"/ },
        { from: "steps.setup.outcome == 'success'", to: "steps.setup.outcom == 'success'", kind: "expression", message: /property "outcom" is not defined/ },
        { from: 'cp reports/head/results.json "$CACHED_BASELINE_DIR/results.json"', to: "cp reports/head/results.json $CACHED_BASELINE_DIR/results.json", kind: "shellcheck", message: /SC2086/ },
      ];
      let broken = original;
      for (const fault of faults) {
        expect(original.split(fault.from).length - 1, `the workflow holds "${fault.from}" once`).toBe(1);
        broken = broken.replace(fault.from, fault.to);
      }
      const file = join(dir, "broken.yml");
      writeFileSync(file, broken);
      const findings = await actionlint([file]);
      for (const fault of faults) {
        const line = broken.slice(0, broken.indexOf(fault.to)).split("\n").length;
        const found = findings.filter((f) => f.kind === fault.kind && fault.message.test(f.message));
        expect(found.length, `a ${fault.kind} finding ${fault.message} among:\n${describeFindings(findings)}`).toBeGreaterThan(0);
        // shellcheck's findings point at the run: key above the script; the others at the fault's own line.
        if (fault.kind !== "shellcheck") expect(found.map((f) => f.line)).toContain(line);
        else expect(found.every((f) => f.line <= line)).toBe(true);
      }
    });
  });
});

describe("the workflow's gate", () => {
  interface Step {
    id?: string;
    name?: string;
    uses?: string;
    if?: string;
    "continue-on-error"?: unknown;
  }
  const workflow = parse(readFileSync(WORKFLOW, "utf8")) as { jobs: Record<string, { steps: Step[]; "continue-on-error"?: unknown }> };
  const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
  const label = (step: Step) => step.id ?? step.name ?? step.uses ?? "(a step)";

  it("fails the job on a failed step: no continue-on-error anywhere", () => {
    for (const job of Object.values(workflow.jobs)) expect(job["continue-on-error"]).toBeUndefined();
    expect(steps.filter((step) => step["continue-on-error"] !== undefined).map(label)).toEqual([]);
  });

  it("still benchmarks after a failed certification, and still diffs, summarises and uploads after a failed run", () => {
    const runAt = steps.findIndex((step) => step.id === "run");
    expect(runAt).toBeGreaterThan(steps.findIndex((step) => step.id === "certify"));
    // Without always() or !cancelled(), a step is skipped once an earlier one failed.
    const runsAfterAFailure = (step: Step) => /(always\(\)|!\s*cancelled\(\))/.test(step.if ?? "");
    expect(steps.slice(runAt).filter((step) => !runsAfterAFailure(step)).map(label)).toEqual([]);
    expect(steps[runAt]!.if ?? "").not.toMatch(/certify/);
    const upload = steps.find((step) => step.uses?.startsWith("actions/upload-artifact@"));
    expect(upload?.if).toBe("always()");
  });
});

describe("the workflow's sidecar-bench command lines", () => {
  const invocations = workflowInvocations(readFileSync(WORKFLOW, "utf8"));
  /** What the example must show, and whatever else it runs. */
  const commands = [...new Set(["certify", "run", "diff", ...invocations.map((invocation) => invocation.command)])];
  const helps = new Map<string, CommandHelp | Error>();

  beforeAll(async () => {
    // One --help per distinct command, side by side.
    await Promise.all(
      commands.map(async (command) => {
        try {
          const { stdout } = await run(process.execPath, ["bin/sidecar-bench.js", command, "--help"], { cwd: PROJECT_ROOT, timeout: HELP_TIMEOUT_MS });
          helps.set(command, parseCommandHelp(command, stdout));
        } catch (error) {
          helps.set(command, error as Error);
        }
      }),
    );
  }, 2 * HELP_TIMEOUT_MS);

  it.each(commands)("%s appears, with a command and options the CLI accepts", (command) => {
    const lines = invocations.filter((invocation) => invocation.command === command);
    expect(lines.length, `a "node bin/sidecar-bench.js ${command}" line in the workflow`).toBeGreaterThan(0);
    const help = helps.get(command);
    if (help instanceof Error) throw help;
    expect(help, `--help of ${command} was read`).toBeDefined();
    expect(lines.flatMap((invocation) => invocationProblems(invocation, help!)).join("\n")).toBe("");
  });

  it("the check itself reports a misspelt option, a missing value and a surplus argument", () => {
    const help = helps.get("run");
    if (help instanceof Error) throw help;
    const step = "test";
    expect(invocationProblems({ step, command: "run", args: ["scenarios/default.yaml", "--outt", "reports/head"] }, help!).join("\n")).toMatch(/unknown option --outt/);
    expect(invocationProblems({ step, command: "run", args: ["scenarios/default.yaml", "--out"] }, help!).join("\n")).toMatch(/--out needs a value/);
    expect(invocationProblems({ step, command: "run", args: ["a.yaml", "b.yaml"] }, help!).join("\n")).toMatch(/2 argument\(s\)/);
    expect(invocationProblems({ step, command: "run", args: ["scenarios/default.yaml", "--out=reports/head", "--seed", "3"] }, help!)).toEqual([]);
  });
});
