// The open loop's own thread (started by WORKER_DRIVER in open-loop-driver.ts): it runs
// rounds with runInterleavedOpenLoop and posts the results back. On its own event loop the
// schedule is not held up by what the harness's main thread does meanwhile — resource
// sampling (synchronous cgroup and /proc reads), container log capture, API watches —
// which otherwise shows up as pacing error in every request due during it.
// Messages are the remote generator's (remote-protocol.ts), as objects instead of JSON lines.
import { parentPort } from "node:worker_threads";
import { encodeHistogram } from "../measure/histogram.ts";
import { runClosedLoop } from "./closed-loop.ts";
import { runInterleavedOpenLoop } from "./open-loop.ts";
import { resultMessage, roundOptionsOf, type GeneratorMessage, type HarnessMessage } from "./remote/remote-protocol.ts";
import type { ClosedLoopMessage, ClosedLoopReply } from "./open-loop-driver.ts";

if (!parentPort) throw new Error("harness/load/open-loop-worker.ts runs as a worker thread only");
const port = parentPort;
const running = new Map<number, AbortController>();

function send(message: GeneratorMessage): void {
  port.postMessage(message);
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

/** A closed-loop trial: same thread, for the same reason (the sampler would stall its responses). */
async function runClosed(message: ClosedLoopMessage): Promise<void> {
  const controller = new AbortController();
  running.set(message.id, controller);
  const { request, ...options } = message.options;
  try {
    const { summary, latency } = await runClosedLoop({
      ...options,
      ...(request ? { request: { ...request, body: Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength) } } : {}),
      signal: controller.signal,
    });
    port.postMessage({ type: "closed-result", id: message.id, summary, latency: encodeHistogram(latency) } satisfies ClosedLoopReply);
  } catch (error) {
    send({ type: "error", id: message.id, message: (error as Error).message });
  } finally {
    running.delete(message.id);
  }
}

port.on("message", (message: (HarnessMessage & { allowRemote?: boolean }) | ClosedLoopMessage) => {
  if (message.type === "closed") void runClosed(message);
  else if (message.type === "round") void runRound(message, message.allowRemote === true);
  else if (message.type === "abort") running.get(message.id)?.abort();
});
