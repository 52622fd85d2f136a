// The in-cluster load generator's process (bundled into the sidecar-bench/loadgen image):
// it reads rounds from stdin, runs each with the same runInterleavedOpenLoop the harness
// runs locally, and writes the results to stdout, one JSON line each. It exits when its
// stdin ends (the harness's exec session closed), so it never outlives its harness.
// Targets come from the harness, whose RemoteOpenLoop admits only loopback and the pods
// its own run created; here they are pod addresses this process cannot vouch for, hence
// allowRemote.
import { hostname } from "node:os";
import { runInterleavedOpenLoop } from "../open-loop.ts";
import { LineSplitter, REMOTE_PROTOCOL_VERSION, resultMessage, roundOptionsOf, type GeneratorMessage, type HarnessMessage } from "./remote-protocol.ts";

function send(message: GeneratorMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

const running = new Map<number, AbortController>();

async function runRound(message: Extract<HarnessMessage, { type: "round" }>): Promise<void> {
  const controller = new AbortController();
  running.set(message.id, controller);
  try {
    const results = await runInterleavedOpenLoop({ ...roundOptionsOf(message), allowRemote: true, signal: controller.signal });
    send(resultMessage(message.id, results));
  } catch (error) {
    send({ type: "error", id: message.id, message: (error as Error).message });
  } finally {
    running.delete(message.id);
  }
}

function handle(line: string): void {
  let message: HarnessMessage;
  try {
    message = JSON.parse(line) as HarnessMessage;
  } catch {
    send({ type: "error", id: null, message: `not a JSON message: ${line.slice(0, 80)}` });
    return;
  }
  if (message.type === "round") void runRound(message);
  else if (message.type === "abort") running.get(message.id)?.abort();
  else send({ type: "error", id: null, message: `unknown message type ${JSON.stringify((message as { type: unknown }).type)}` });
}

const lines = new LineSplitter();
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => lines.push(chunk).forEach(handle));
process.stdin.on("end", () => {
  for (const controller of running.values()) controller.abort();
  process.exit(0);
});
send({ type: "hello", protocol: REMOTE_PROTOCOL_VERSION, node: hostname(), pid: process.pid });
