// The command line: the one place that reads argv, the environment and the clock's
// run id, and maps failures to exit codes (0 ok, 1 failed run, 2 invalid input,
// 130 interrupted). The commands are in program.ts.
import { CommanderError } from "commander";
import { ManifestError } from "../scenario/manifest-error.ts";
import { UsageError } from "./usage-error.ts";
import { buildProgram } from "./program.ts";

try {
  await buildProgram().parseAsync(process.argv);
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
