// A container's exit code as the local runtime reports a process's exit. The engine
// reports 128 + n when the container's command died of signal n (137: SIGKILL), which
// becomes that signal.
import { constants } from "node:os";
import type { ExitInfo } from "../container-exit.ts";

export type { ExitInfo };

const SIGNAL_BY_NUMBER = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]));

export function exitInfoFromCode(exitCode: number): ExitInfo {
  const signal = exitCode > 128 ? SIGNAL_BY_NUMBER.get(exitCode - 128) : undefined;
  return signal ? { code: null, signal } : { code: exitCode, signal: null };
}
