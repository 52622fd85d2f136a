// Reading a record a command was given (results.json, conformance.json): a missing file or
// one that is not JSON is the caller's input error (exit 2), named with what was expected.
import { existsSync, readFileSync } from "node:fs";
import { UsageError } from "./usage-error.ts";

/** `name` is how the message shows the file; `expected` says what should have been there. */
export function readJsonFile(file: string, name: string, expected: string): unknown {
  if (!existsSync(file)) throw new UsageError(`${name}: no such file; ${expected}`);
  try {
    return JSON.parse(readFileSync(file, "utf8")) as unknown;
  } catch (error) {
    throw new UsageError(`${name}: not readable JSON (${(error as Error).message}); ${expected}`);
  }
}
