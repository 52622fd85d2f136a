// How a container ended, as every runtime reports it: an exit code, or the signal that
// ended it (a local process's exit; on docker the engine's code, see docker/exit-info.ts).

/**
 * How long a container's exit waits for its output to arrive before it is recorded (and the
 * pod notes it in the log): a runtime hears of the exit (a process's 'exit', the engine's
 * "die" event) while the pipes or the attached stream may still be delivering the last
 * megabytes of a flood. Normally the output ends within milliseconds of the exit; the bound
 * keeps output that never ends from holding the exit.
 */
export const OUTPUT_DRAIN_MS = 2_000;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** "with code 1", "on signal SIGKILL"; for event details and error messages. */
export function describeExit(exit: ExitInfo | null): string {
  if (!exit) return "(still running)";
  return exit.signal ? `on signal ${exit.signal}` : `with code ${exit.code}`;
}
