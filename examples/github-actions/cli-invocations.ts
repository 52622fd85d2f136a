// Checks the `node bin/sidecar-bench.js <command> ...` lines of a workflow against the CLI's
// own `<command> --help`, so that the example stops passing when a command or flag it uses
// is renamed or removed. Parses commander's help format (Usage line, Options block).
import { parse } from "yaml";

/** One sidecar-bench command line of a workflow's `run:` script. */
export interface Invocation {
  /** The step's id or name, for messages. */
  step: string;
  command: string;
  /** The words after the command, quotes removed ("$SIDECAR" stays "$SIDECAR"). */
  args: string[];
}

/** What `<command> --help` says the command takes. */
export interface CommandHelp {
  command: string;
  /** Each option (long and short forms) → whether it takes a value. */
  options: Map<string, boolean>;
  requiredArgs: number;
  /** Infinity for a variadic argument. */
  maxArgs: number;
}

const ENTRY = "node bin/sidecar-bench.js";
/** Where a shell command ends: an operator, a redirection or a closing group. */
const SHELL_OPERATOR = /^(?:&&|\|\||\||;|>|>>|2>|2>&1|\))$/;

/** Shell words of one logical line: plain, '…' or "…" (no expansion, enough for a workflow's command lines). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(&&|\|\||[|;)]|\d?>>?(?:&\d)?)|([^\s"';|&)>]+)/g;
  let word: string | null = null;
  let last = 0;
  for (let match = pattern.exec(line); match; match = pattern.exec(line)) {
    // Adjacent pieces (--out="a b") are one word; whitespace between them ends it.
    if (word !== null && (match.index > last || match[3] !== undefined)) {
      words.push(word);
      word = null;
    }
    if (match[3] !== undefined) words.push(match[3]);
    else word = (word ?? "") + (match[1] ?? match[2] ?? match[4] ?? "");
    last = match.index + match[0].length;
  }
  if (word !== null) words.push(word);
  return words;
}

/** Every sidecar-bench command line in the `run:` scripts of a workflow's jobs. */
export function workflowInvocations(workflowYaml: string): Invocation[] {
  const workflow = parse(workflowYaml) as { jobs?: Record<string, { steps?: Array<{ id?: string; name?: string; run?: string }> }> };
  const invocations: Invocation[] = [];
  for (const [jobId, job] of Object.entries(workflow.jobs ?? {})) {
    for (const [index, step] of (job.steps ?? []).entries()) {
      if (typeof step.run !== "string") continue;
      const label = `jobs.${jobId}.steps[${index}]${step.id ? ` (id ${step.id})` : step.name ? ` (${step.name})` : ""}`;
      // Backslash-newline continues a line.
      for (const line of step.run.replace(/\\\n/g, " ").split("\n")) {
        let at = line.indexOf(ENTRY);
        while (at >= 0) {
          const words = shellWords(line.slice(at + ENTRY.length));
          const end = words.findIndex((word) => SHELL_OPERATOR.test(word));
          const [command, ...args] = end < 0 ? words : words.slice(0, end);
          if (command === undefined) throw new Error(`${label}: "${ENTRY}" without a command`);
          invocations.push({ step: label, command, args });
          at = line.indexOf(ENTRY, at + ENTRY.length);
        }
      }
    }
  }
  return invocations;
}

/**
 * Reads commander's `sidecar-bench <command> --help`. Commander answers an unknown
 * command's --help with the program's help, so a Usage line for another command means
 * the command does not exist.
 */
export function parseCommandHelp(command: string, helpText: string): CommandHelp {
  const usage = /^Usage: sidecar-bench (.*)$/m.exec(helpText)?.[1];
  if (usage === undefined) throw new Error(`\`sidecar-bench ${command} --help\` printed no "Usage: sidecar-bench ..." line:\n${helpText}`);
  const [named, ...rest] = usage.trim().split(/\s+/);
  if (named !== command) throw new Error(`sidecar-bench has no command "${command}": its --help printed the usage "sidecar-bench ${usage}"`);
  const args = rest.filter((part) => part !== "[options]");
  const options = new Map<string, boolean>();
  const block = /^Options:\n((?:[ \t]+.*\n?|\n(?=[ \t]))*)/m.exec(helpText)?.[1] ?? "";
  for (const line of block.split("\n")) {
    const option = /^ {2}(?:(-\w), )?(--[\w-]+)( [<[])?/.exec(line);
    if (!option) continue;
    const takesValue = option[3] !== undefined;
    options.set(option[2]!, takesValue);
    if (option[1]) options.set(option[1], takesValue);
  }
  if (!options.has("--help")) throw new Error(`\`sidecar-bench ${command} --help\` has no Options block listing --help:\n${helpText}`);
  return {
    command,
    options,
    requiredArgs: args.filter((arg) => arg.startsWith("<")).length,
    maxArgs: args.some((arg) => arg.includes("...")) ? Infinity : args.length,
  };
}

/** What is wrong with one invocation, by its help; empty when the CLI accepts it. */
export function invocationProblems(invocation: Invocation, help: CommandHelp): string[] {
  const where = `${invocation.step}: sidecar-bench ${invocation.command}`;
  const problems: string[] = [];
  const positional: string[] = [];
  for (let i = 0; i < invocation.args.length; i++) {
    const arg = invocation.args[i]!;
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const [flag, inlineValue] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    const takesValue = help.options.get(flag);
    if (takesValue === undefined) {
      problems.push(`${where}: unknown option ${flag} (it takes ${[...help.options.keys()].filter((o) => o.startsWith("--")).join(", ")})`);
    } else if (takesValue && inlineValue === undefined) {
      if (i + 1 >= invocation.args.length) problems.push(`${where}: ${flag} needs a value`);
      i++;
    } else if (!takesValue && inlineValue !== undefined) {
      problems.push(`${where}: ${flag} takes no value`);
    }
  }
  if (positional.length < help.requiredArgs || positional.length > help.maxArgs) {
    const wanted = help.maxArgs === help.requiredArgs ? `${help.requiredArgs}` : `${help.requiredArgs} to ${help.maxArgs}`;
    problems.push(`${where}: ${positional.length} argument(s) (${positional.join(" ")}), the command takes ${wanted}`);
  }
  return problems;
}
