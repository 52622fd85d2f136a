// The harness's load generator process (started by open-loop-driver.ts with child_process.fork):
// it runs open-loop rounds with runInterleavedOpenLoop and sends the results back over the
// IPC channel (closed-loop trials run in a native process of their own: closed-loop.ts).
// Apart from the harness's main thread, the schedule is not held up by what that thread does meanwhile — resource sampling (synchronous
// cgroup and /proc reads), container log capture, API watches — and it runs under V8 flags of
// its own (--single-threaded-gc, see GENERATOR_NODE_FLAGS in open-loop-driver.ts).
// Messages are the remote generator's (remote-protocol.ts), as objects instead of JSON lines.
import { runInterleavedOpenLoop } from "./open-loop.ts";
import { resultMessage, roundOptionsOf, type GeneratorMessage, type HarnessMessage } from "./remote/remote-protocol.ts";

if (!process.send) throw new Error("harness/load/open-loop-process.ts runs as a child process with an IPC channel only (child_process.fork)");
const running = new Map<number, AbortController>();

function send(message: GeneratorMessage): void {
  process.send?.(message);
}

async function runRound(message: Extract<HarnessMessage, { type: "round" }>, allowRemote: boolean): Promise<void> {
  const controller = new AbortController();
  running.set(message.id, controller);
  try {
    const results = await runInterleavedOpenLoop({ ...roundOptionsOf(message), allowRemote, signal: controller.signal });
    send(resultMessage(message.id, results));
  } catch (error) {
    send({ type: "error", id: message.id, message: (error as Error).message });
  } finally {
    running.delete(message.id);
  }
}

process.on("message", (message: HarnessMessage & { allowRemote?: boolean }) => {
  if (message.type === "round") void runRound(message, message.allowRemote === true);
  else if (message.type === "abort") running.get(message.id)?.abort();
});
// Ctrl-C in a terminal (and a CI runner's SIGTERM to the group) reaches this process too: the
// harness decides what an interruption stops (it sends "abort" for a round in flight and keeps
// what finished), so the generator does not die under it with a round half sent.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => undefined);
// Never outlives the harness: its IPC channel closes when the harness exits, however it exits.
process.on("disconnect", () => process.exit(0));
