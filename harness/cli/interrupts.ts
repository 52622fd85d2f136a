// Ctrl-C (or SIGTERM) during a command: the first one aborts the work so pods are
// stopped and finished results kept; a second one exits at once (the runtimes' exit
// hooks SIGKILL every pod process).
export interface InterruptHandle {
  signal: AbortSignal;
  /** Removes the handlers (the command is done). */
  dispose(): void;
}

export function onInterrupt(say: (line: string) => void, whatHappens: string): InterruptHandle {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++interrupts === 1) {
      say(`${signal}: ${whatHappens}; press Ctrl-C again to kill at once`);
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
