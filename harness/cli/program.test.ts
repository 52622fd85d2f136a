// Every command's --help lists its exit codes, and the values its flags accept come from the
// constants the code validates with (a new runtime, profile or action shows up in the help).
import { describe, expect, it } from "vitest";
import type { Command } from "commander";
import { buildProgram } from "./program.ts";
import { PROFILES } from "../conformance/profiles.ts";
import { PRIMARY_NAMES } from "../scenario/named-primaries.ts";
import { AVAILABLE_RUNTIMES, POD_ACCESS_MODES } from "../runtime/runtime-names.ts";
import { CLUSTER_ACTIONS } from "./cluster-actions.ts";

function helpOf(command: Command): string {
  let text = "";
  command.configureOutput({ writeOut: (chunk) => (text += chunk), writeErr: (chunk) => (text += chunk) });
  command.outputHelp();
  return text;
}

const program = buildProgram();
const command = (name: string) => {
  const found = program.commands.find((c) => c.name() === name);
  if (!found) throw new Error(`no command "${name}"`);
  return found;
};
const line = (flag: string, values: readonly string[]) => new RegExp(`^ {2}${flag.replace(/[<>]/g, "\\$&")} +${values.join(", ")}$`, "m");

/** The values each command's help must list, from the validating constants. */
const EXPECTED_VALUES: Record<string, Array<[string, readonly string[]]>> = {
  run: [["--runtime", AVAILABLE_RUNTIMES], ["--primary", [...PRIMARY_NAMES, "<Primary manifest file>"]], ["--pod-access", POD_ACCESS_MODES]],
  calibrate: [["--primary", [...PRIMARY_NAMES, "<Primary manifest file>"]]],
  certify: [["--profile", PROFILES], ["--runtime", AVAILABLE_RUNTIMES], ["--pod-access", POD_ACCESS_MODES]],
  compare: [["--runtime", AVAILABLE_RUNTIMES], ["--pod-access", POD_ACCESS_MODES]],
  cluster: [["<action>", CLUSTER_ACTIONS]],
};

describe("--help", () => {
  it("of the program lists exit codes and examples", () => {
    const help = helpOf(program);
    expect(help).toMatch(/^Exit codes:\n {4}0 {2}success\n/m);
    expect(help).toMatch(/^Examples:\n {2}npm run setup/m);
  });

  it.each(program.commands.map((c) => c.name()))("of %s lists its exit codes, examples and valid values", (name) => {
    const help = helpOf(command(name));
    expect(help).toMatch(/^Exit codes:\n {4}0 {2}\S/m);
    expect(help).toMatch(new RegExp(`^Examples:\\n {2}sidecar-bench ${name}\\b`, "m"));
    for (const [flag, values] of EXPECTED_VALUES[name] ?? []) expect(help).toMatch(line(flag, values));
  });

  it("covers every command that starts pods with exit code 130", () => {
    for (const name of ["run", "calibrate", "certify", "compare"]) expect(helpOf(command(name))).toMatch(/^ {2}130 {2}interrupted/m);
  });
});
