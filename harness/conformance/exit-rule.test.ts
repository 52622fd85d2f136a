// One exit rule for both ways of certifying: `sidecar-bench certify` and the vitest entry
// CI runs directly (suites/conformance.test.ts) give the same exit code on the same
// verdicts — a core failure, an extended failure only, and a partial result without
// failures — and write the same result.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { ConformanceReport } from "./conformance-report.ts";
import { CERTIFY_ENV } from "./entry-options.ts";
import { certificationExitCode, failsTheRun } from "./exit-rule.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const sidecar = join(root, "harness/conformance/fixtures/exit-rule-sidecar.yaml");
const registry = (name: string) => join(root, "harness/conformance/fixtures", `exit-rule-${name}.ts`);

/** Without this worker's VITEST_* variables: each child runs a vitest of its own. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("VITEST") && name !== "TEST" && name !== "NODE_ENV"));
  return { ...env, ...extra };
}

function exitOf(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  return new Promise((done) => child.once("exit", (code) => done({ code, output })));
}

async function bothWays(name: string): Promise<{ certify: number | null; vitest: number | null; results: string[] }> {
  const certifyOut = mkdtempSync(join(tmpdir(), "sb-exit-certify-"));
  const vitestOut = mkdtempSync(join(tmpdir(), "sb-exit-vitest-"));
  const certify = await exitOf([join(root, "bin/sidecar-bench.js"), "certify", sidecar, "--no-performance", "--out", certifyOut], childEnv({ [CERTIFY_ENV.registry]: registry(name) }));
  const vitest = await exitOf(
    [join(root, "node_modules/vitest/vitest.mjs"), "run", "--config", "vitest.conformance.config.ts"],
    childEnv({ [CERTIFY_ENV.sidecar]: sidecar, [CERTIFY_ENV.registry]: registry(name), [CERTIFY_ENV.out]: vitestOut }),
  );
  const result = (dir: string) => (parse(readFileSync(join(dir, "conformance.yaml"), "utf8")) as ConformanceReport).result;
  expect(certify.code, certify.output).not.toBe(2);
  return { certify: certify.code, vitest: vitest.code, results: [result(certifyOut), result(vitestOut)] };
}

describe("the exit rule", () => {
  it("fails the run on a failed verdict only", () => {
    expect(failsTheRun("failed")).toBe(true);
    for (const verdict of ["passed", "skipped", "not-supported"] as const) expect(failsTheRun(verdict)).toBe(false);
  });

  it("gives 130 for an interrupted run and 1 for an incomplete one, whatever the verdicts", () => {
    const report = (status: ConformanceReport["status"]) => ({ status, profiles: [] }) as unknown as ConformanceReport;
    expect(certificationExitCode(report("interrupted"))).toBe(130);
    expect(certificationExitCode(report("incomplete"))).toBe(1);
    expect(certificationExitCode(report("complete"))).toBe(0);
  });

  it.each([
    ["core-failure", 1, "failure"],
    ["extended-failure", 1, "partial"],
    ["no-failure", 0, "partial"],
  ] as const)("certify and the vitest entry agree on %s: exit %i, result %s", async (name, code, result) => {
    const both = await bothWays(name);
    expect(both).toEqual({ certify: code, vitest: code, results: [result, result] });
  }, 120_000);
});
