// Who sends a benchmark's open-loop rounds: this process (local and docker runtimes), or a
// generator beside the pods under test (kubernetes: a pod in the cluster, so requests take
// the path a cluster's clients take and no port-forward adds its own cost). Either way
// the same runInterleavedOpenLoop runs the schedule, and the results are the same values.
//
// Locally the schedule runs in a child process of its own (open-loop-process.ts): the main
// thread samples resources with synchronous reads, captures container logs and watches APIs
// during a round, and each of those held up sends due meanwhile (pacing error); and a process,
// unlike a worker thread, can run under V8 flags of its own (GENERATOR_NODE_FLAGS).
import { fork, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { childEntry } from "../project-root.ts";
import type { StartedPod } from "../runtime/pod-runtime.ts";
import { isLoopbackHost, isOwnPodAddress } from "./target-guard.ts";
import type { OpenLoopResult } from "./open-loop.ts";
import { roundMessage, resultsOf, type GeneratorMessage, type HarnessMessage, type RoundOptions } from "./remote/remote-protocol.ts";

export interface OpenLoopDriver {
  /** Where the generator runs, for the environment fingerprint. */
  readonly description: string;
  /** The URL the generator reaches `port` of `container` at. */
  targetUrl(pod: StartedPod, container: string, port: string): string;
  run(options: RoundOptions & { signal?: AbortSignal }): Promise<OpenLoopResult[]>;
  close(): Promise<void>;
}

const GENERATOR_ENTRY = "harness/load/open-loop-process";

/**
 * The generator polls its schedule and so keeps a CPU busy; V8's garbage-collector helper
 * threads then preempt it for a scheduler slice of milliseconds at a time, which shows as
 * pacing error. With --single-threaded-gc the collector works on the generator's own thread,
 * in pauses of a fraction of a millisecond (see the README's generator figures).
 */
export const GENERATOR_NODE_FLAGS = ["--single-threaded-gc"];

/**
 * How long past a round's planned length (and one request timeout for its last answers) the
 * main thread waits for the generator before presuming it stuck: generous, since a loaded
 * machine delays the generator's final sweeps and result encoding, but finite, so a generator
 * that never settles fails its round instead of hanging the benchmark.
 */
export const ROUND_BOUND_MARGIN_MS = 10_000;

/** The longest a round or trial may run on the generator: planned length + request timeout + margin. */
export function roundBoundMs(plannedMs: number, timeoutMs: number, marginMs = ROUND_BOUND_MARGIN_MS): number {
  if (!(plannedMs >= 0) || !(timeoutMs >= 0) || !Number.isFinite(plannedMs + timeoutMs)) {
    throw new Error(`open-loop-driver.ts: a round's plannedMs and timeoutMs must be finite and ≥ 0, got ${plannedMs} and ${timeoutMs}`);
  }
  return plannedMs + timeoutMs + marginMs;
}

/** Computes a round's bound from its planned length and request timeout (tests inject a short one). */
export type RoundBound = (plannedMs: number, timeoutMs: number) => number;

interface Pending {
  /** The generator running it: only that process's exit fails it. */
  generator: ChildProcess;
  resolve: (results: OpenLoopResult[]) => void;
  reject: (error: Error) => void;
}

/** One generator process, started at the first round and kept until close(); it holds the harness open only while a round runs. */
class ProcessOpenLoop implements OpenLoopDriver {
  readonly description = `sidecar-bench open loop (undici and a lean HTTP/1.1 pool), in a child process of the harness (node ${GENERATOR_NODE_FLAGS.join(" ")})`;
  private generator: ChildProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly bound: RoundBound = roundBoundMs) {}

  targetUrl(pod: StartedPod, container: string, port: string): string {
    return pod.url(container, port);
  }

  async run(options: RoundOptions & { signal?: AbortSignal }): Promise<OpenLoopResult[]> {
    const { signal, ...round } = options;
    const generator = this.start();
    const id = this.nextId++;
    const message: HarnessMessage & { allowRemote: boolean } = {
      ...(roundMessage(id, round) as Extract<HarnessMessage, { type: "round" }>),
      allowRemote: round.targets.every(({ url }) => admitted(url)),
    };
    const boundMs = this.bound(round.slotMs * round.slotOrder.length, round.timeoutMs);
    return await this.exchange<OpenLoopResult[]>(generator, id, message, signal, `open-loop round ${id}`, boundMs, (resolve) => ({ resolve, reject: () => undefined }));
  }

  /**
   * Posts `message`, forwards an abort, and settles with the generator's answer for `id` — or,
   * if none comes within `boundMs`, terminates the generator (the next round starts a new one)
   * and rejects: a generator stuck on a request that never settles must not hang the run.
   */
  private async exchange<T>(
    generator: ChildProcess,
    id: number,
    message: unknown,
    signal: AbortSignal | undefined,
    label: string,
    boundMs: number,
    pending: (resolve: (value: T) => void) => Omit<Pending, "generator">,
  ): Promise<T> {
    const onAbort = (): void => post(generator, { type: "abort", id } satisfies HarnessMessage);
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<T>((resolve, reject) => {
        this.pending.set(id, { ...pending(resolve), generator, reject });
        if (this.pending.size === 1) holdOpen(generator, true);
        timer = setTimeout(() => {
          if (this.generator === generator) this.generator = null;
          reject(new Error(`${label}: the load generator did not finish within ${boundMs} ms (its planned length + request timeout + margin); its process was killed`));
          generator.kill("SIGKILL");
        }, boundMs);
        post(generator, message);
        signal?.addEventListener("abort", onAbort, { once: true });
        if (signal?.aborted) onAbort();
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      this.pending.delete(id);
      if (this.pending.size === 0 && this.generator) holdOpen(this.generator, false);
    }
  }

  async close(): Promise<void> {
    const generator = this.generator;
    this.generator = null;
    if (generator && generator.exitCode === null && generator.signalCode === null) {
      const exited = new Promise((resolve) => generator.once("exit", resolve));
      // Referenced again, or an otherwise idle harness would end (exit code 13) before the "exit" event.
      holdOpen(generator, true);
      generator.kill("SIGKILL");
      await exited;
    }
  }

  private start(): ChildProcess {
    if (this.generator) return this.generator;
    const { modulePath, execArgv } = childEntry(GENERATOR_ENTRY);
    if (!existsSync(modulePath)) throw new Error(`the load generator's entry ${modulePath} is missing (scripts/build-cli.mjs CLI_ENTRY_POINTS)`);
    // Structured-clone messages (serialization "advanced"), as worker threads exchange (round
    // messages carry their request body as base64, as the remote generator's JSON lines do).
    const generator = fork(modulePath, [], { execArgv: [...GENERATOR_NODE_FLAGS, ...execArgv], serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
    holdOpen(generator, false);
    generator.on("message", (message: GeneratorMessage) => {
      if (message.type === "result") this.pending.get(message.id)?.resolve(resultsOf(message));
      else if (message.type === "error" && message.id !== null) this.pending.get(message.id)?.reject(new Error(message.message));
    });
    const failAll = (error: Error): void => {
      if (this.generator === generator) this.generator = null;
      for (const p of this.pending.values()) if (p.generator === generator) p.reject(error);
    };
    generator.on("error", (error) => failAll(new Error(`the load generator process failed: ${error.message}`)));
    generator.on("exit", (code, signal) => failAll(new Error(`the load generator process exited (${signal ?? `code ${code}`}) during a round`)));
    this.generator = generator;
    return generator;
  }
}

function post(generator: ChildProcess, message: unknown): void {
  // A generator that already exited fails its rounds through its "exit" event, not here.
  if (generator.connected) generator.send(message as object);
}

/** Whether the generator keeps the harness's event loop alive (while a round runs) or not (between rounds). */
function holdOpen(generator: ChildProcess, hold: boolean): void {
  const channel = generator.channel as { ref(): void; unref(): void } | null | undefined;
  if (hold) {
    generator.ref();
    channel?.ref();
  } else {
    generator.unref();
    channel?.unref();
  }
}

/** The guard's list of this run's pod addresses lives in this process: judged here, sent to the generator as a flag. */
function admitted(url: string): boolean {
  const host = new URL(url).hostname;
  return isLoopbackHost(host) || isOwnPodAddress(host);
}

const GENERATOR = new ProcessOpenLoop();

/** A driver with a generator process of its own and the given bound: for tests of the bound (the harness uses LOCAL_DRIVER). */
export function createGeneratorDriver(bound: RoundBound): OpenLoopDriver & { close(): Promise<void> } {
  return new ProcessOpenLoop(bound);
}

/** The harness's own open loop, in a generator process of its own (see above). */
export const LOCAL_DRIVER: OpenLoopDriver = GENERATOR;
