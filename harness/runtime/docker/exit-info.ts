// A container's exit code as the local runtime reports a process's exit. The engine
// reports 128 + n when the container's command died of signal n (137: SIGKILL), which
// becomes that signal.
import { constants } from "node:os";

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const SIGNAL_BY_NUMBER = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]));

export function exitInfoFromCode(exitCode: number): ExitInfo {
  const signal = exitCode > 128 ? SIGNAL_BY_NUMBER.get(exitCode - 128) : undefined;
  return signal ? { code: null, signal } : { code: exitCode, signal: null };
}

export function describeExit(exit: ExitInfo | null): string {
  if (!exit) return "(still running)";
  return exit.signal ? `on signal ${exit.signal}` : `with code ${exit.code}`;
}
