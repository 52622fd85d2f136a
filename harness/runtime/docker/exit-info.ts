// A container's exit code as the local runtime reports a process's exit. The init
// process (tini) exits with 128 + n when the command died of signal n, and the engine
// reports 137 when the container itself was SIGKILLed: both become a signal.
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
