// How a container ended, as every runtime reports it: an exit code, or the signal that
// ended it (a local process's exit; on docker the engine's code, see docker/exit-info.ts).

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** "with code 1", "on signal SIGKILL"; for event details and error messages. */
export function describeExit(exit: ExitInfo | null): string {
  if (!exit) return "(still running)";
  return exit.signal ? `on signal ${exit.signal}` : `with code ${exit.code}`;
}
