// The epilogue of a command's --help: its exit codes, examples and the values its flags accept.
// Callers pass the same constants the code validates with, so help and validation cannot drift.
import type { Command } from "commander";

export interface HelpExtras {
  exitCodes: Array<[number, string]>;
  examples: string[];
  /** [flag or argument, the values it accepts] */
  values?: Array<[string, readonly string[]]>;
}

/** The text withHelp appends, exported for tests. */
export function helpEpilogue(extras: HelpExtras): string {
  const lines: string[] = [];
  if (extras.values && extras.values.length > 0) {
    lines.push("", "Valid values:");
    const width = Math.max(...extras.values.map(([flag]) => flag.length));
    for (const [flag, values] of extras.values) lines.push(`  ${flag.padEnd(width)}  ${values.join(", ")}`);
  }
  lines.push("", "Exit codes:");
  for (const [code, meaning] of extras.exitCodes) lines.push(`  ${String(code).padStart(3)}  ${meaning}`);
  if (extras.examples.length > 0) {
    lines.push("", "Examples:");
    for (const example of extras.examples) lines.push(`  ${example}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Adds "Valid values / Exit codes / Examples" after the command's own --help. */
export function withHelp(command: Command, extras: HelpExtras): Command {
  return command.addHelpText("after", helpEpilogue(extras));
}
