// The harness's side of a remote generator: sends rounds, awaits their results, aborts a
// round when the run is interrupted, and fails every waiting round with the generator's
// last words if its stream ends.
import type { Readable, Writable } from "node:stream";
import type { OpenLoopResult } from "../open-loop.ts";
import { assertLoadTarget } from "../target-guard.ts";
import { LineSplitter, REMOTE_PROTOCOL_VERSION, resultsOf, roundMessage, type GeneratorMessage, type HarnessMessage, type RoundOptions } from "./remote-protocol.ts";

const HELLO_TIMEOUT_MS = 30_000;

export class RemoteGeneratorError extends Error {
  override name = "RemoteGeneratorError";
}

interface Waiting {
  resolve(results: OpenLoopResult[]): void;
  reject(error: Error): void;
}

export class RemoteOpenLoop {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private readonly lines = new LineSplitter();
  private ended: Error | null = null;
  private readonly hello: Promise<Extract<GeneratorMessage, { type: "hello" }>>;

  /** `where` names the generator in errors, e.g. "pod sb-loadgen-1a2b". */
  constructor(
    private readonly input: Writable,
    output: Readable,
    private readonly where: string,
    private readonly lastWords: () => string[] = () => [],
  ) {
    let greet: (hello: Extract<GeneratorMessage, { type: "hello" }>) => void = () => undefined;
    let refuse: (error: Error) => void = () => undefined;
    this.hello = new Promise((resolve, reject) => {
      greet = resolve;
      refuse = reject;
    });
    this.hello.catch(() => undefined);
    const helloTimer = setTimeout(() => refuse(new RemoteGeneratorError(`${where} did not greet within ${HELLO_TIMEOUT_MS / 1000} s`)), HELLO_TIMEOUT_MS);
    helloTimer.unref();
    output.setEncoding("utf8");
    output.on("data", (chunk: string) => {
      for (const line of this.lines.push(chunk)) {
        let message: GeneratorMessage;
        try {
          message = JSON.parse(line) as GeneratorMessage;
        } catch {
          continue; // not ours (a runtime's notice on the stream)
        }
        if (typeof message !== "object" || message === null) continue; // JSON, but not a message ("null", a number)
        if (message.type === "hello") {
          clearTimeout(helloTimer);
          if (message.protocol === REMOTE_PROTOCOL_VERSION) greet(message);
          else refuse(new RemoteGeneratorError(`${where} speaks protocol ${message.protocol}, the harness ${REMOTE_PROTOCOL_VERSION}: rebuild the loadgen image (node scripts/build-images.mjs)`));
        } else if (message.type === "result") {
          const waiting = this.waiting.get(message.id);
          this.waiting.delete(message.id);
          waiting?.resolve(resultsOf(message));
        } else if (message.type === "error" && message.id !== null) {
          const waiting = this.waiting.get(message.id);
          this.waiting.delete(message.id);
          waiting?.reject(new RemoteGeneratorError(`${where}: ${message.message}`));
        }
      }
    });
    const end = (reason: string) => {
      clearTimeout(helloTimer);
      const words = this.lastWords();
      this.ended = new RemoteGeneratorError(`${where}: ${reason}${words.length ? `; its last lines:\n  ${words.join("\n  ")}` : ""}`);
      refuse(this.ended);
      for (const waiting of this.waiting.values()) waiting.reject(this.ended);
      this.waiting.clear();
    };
    output.once("end", () => end("the generator's stream ended"));
    output.once("error", (error) => end(`the generator's stream failed: ${error.message}`));
  }

  /** Resolves once the generator has greeted with the harness's protocol version. */
  async ready(): Promise<{ node: string; pid: number }> {
    const hello = await this.hello;
    return { node: hello.node, pid: hello.pid };
  }

  /**
   * The generator sends to any address it is given (it cannot know which pods this run
   * created), so the target guard holds here, in the harness, before a round leaves.
   */
  async run(options: RoundOptions & { signal?: AbortSignal }): Promise<OpenLoopResult[]> {
    for (const target of options.targets) assertLoadTarget(target.url);
    await this.ready();
    if (this.ended) throw this.ended;
    const id = this.nextId++;
    const { signal, ...round } = options;
    const results = new Promise<OpenLoopResult[]>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    const abort = () => this.send({ type: "abort", id });
    signal?.addEventListener("abort", abort, { once: true });
    this.send(roundMessage(id, round));
    // Already aborted (the run was interrupted between rounds): the round stops at once, as in-process.
    if (signal?.aborted) abort();
    try {
      return await results;
    } finally {
      signal?.removeEventListener("abort", abort);
    }
  }

  private send(message: HarnessMessage): void {
    if (!this.ended) this.input.write(`${JSON.stringify(message)}\n`);
  }
}
