// `load: {mode: vegeta}`: each round is sent by one vegeta process (an external,
// well-known open-loop generator), and its per-request results are read back into the
// harness's histograms. Runs beside the harness (local and docker runtimes), as the
// in-process loop does; the harness's CPU pinning is inherited by the child.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OpenLoopResult } from "../open-loop.ts";
import type { OpenLoopDriver } from "../open-loop-driver.ts";
import type { RoundOptions } from "../remote/remote-protocol.ts";
import { assertLoadTarget } from "../target-guard.ts";
import { findVegeta, vegetaVersion } from "./vegeta-binary.ts";
import { runVegeta, VegetaError } from "./vegeta-process.ts";
import { parseVegetaResults } from "./vegeta-results.ts";
import { roundResultsOf } from "./vegeta-round-results.ts";
import { planVegetaRound } from "./vegeta-targets.ts";

/** Beyond the round and its timeouts: vegeta's start and its last writes. */
const ATTACK_MARGIN_MS = 15_000;
/** gob → JSON of one round's results: seconds even for large rounds. */
const ENCODE_DEADLINE_MS = 60_000;

export class VegetaDriver implements OpenLoopDriver {
  readonly description: string;

  private constructor(
    private readonly binary: string,
    readonly version: string | null,
  ) {
    this.description = `vegeta ${version ?? "(unknown version)"} (open loop, constant rate), a child process of the harness`;
  }

  /** Finds vegeta on `commandPath` (the runtime's: .venv/bin first) and asks its version. */
  static async create(commandPath: string): Promise<VegetaDriver> {
    const binary = findVegeta(commandPath);
    return new VegetaDriver(binary, await vegetaVersion(binary));
  }

  targetUrl(pod: Parameters<OpenLoopDriver["targetUrl"]>[0], container: string, port: string): string {
    return pod.url(container, port);
  }

  async run(options: RoundOptions & { signal?: AbortSignal }): Promise<OpenLoopResult[]> {
    if (options.arrival !== "constant") throw new VegetaError(`load mode vegeta: vegeta paces at a constant rate; arrival ${JSON.stringify(options.arrival)} is not available`);
    for (const target of options.targets) {
      assertLoadTarget(target.url);
      if ("tokenStream" in target.request && target.request.tokenStream) {
        throw new VegetaError("load mode vegeta: vegeta times whole responses, not the tokens of a stream; use load mode open for token streams");
      }
    }
    const plan = planVegetaRound(options);
    const dir = await mkdtemp(join(tmpdir(), "sidecar-bench-vegeta-"));
    try {
      const targetsFile = join(dir, "targets.json");
      const bodyFile = join(dir, "body.bin");
      const gobFile = join(dir, "results.gob");
      const jsonFile = join(dir, "results.json");
      await writeFile(targetsFile, `${plan.targetLines.join("\n")}\n`);
      if (plan.sharedBody) await writeFile(bodyFile, plan.sharedBody);
      const roundMs = options.slotMs * options.slotOrder.length;
      await runVegeta({
        binary: this.binary,
        args: [
          "attack",
          "-format", "json",
          "-targets", targetsFile,
          // One line per hit, in order; the end of the list ends the attack (vegeta-targets.ts).
          "-lazy",
          ...(plan.sharedBody ? ["-body", bodyFile] : []),
          "-rate", plan.rateFlag,
          "-duration", plan.durationFlag,
          "-timeout", `${options.timeoutMs}ms`,
          // Per target host, i.e. per arm, as the harness's own pool per target.
          "-max-connections", String(options.maxConnections),
          // Enough goroutines from the start; vegeta adds more if all are blocked, so it never waits for a response to send (open loop).
          "-workers", String(options.maxConnections),
          // A redirect is an answer, not followed: it counts as its status, as in the harness's loop.
          "-redirects", "-1",
          // The body is read (its transfer is timed) but not kept in the results.
          "-max-body", "0",
          "-output", gobFile,
        ],
        // Sending ends by the round + one timeout (-duration), the last answers one timeout later.
        deadlineMs: roundMs + 2 * options.timeoutMs + ATTACK_MARGIN_MS,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      await runVegeta({
        binary: this.binary,
        args: ["encode", "--to", "json", "--output", jsonFile, gobFile],
        deadlineMs: ENCODE_DEADLINE_MS,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const results = parseVegetaResults(await readFile(jsonFile, "utf8"), `vegeta results of the round (${jsonFile})`);
      return roundResultsOf(plan, results, {
        ratePerSec: options.ratePerSec,
        seed: options.seed,
        maxConnections: options.maxConnections,
        timeoutMs: options.timeoutMs,
        slotMs: options.slotMs,
        slotOrder: options.slotOrder,
        armCount: options.targets.length,
        rateShortfallThresholdPct: options.rateShortfallThresholdPct ?? 2,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    // One process per round, each gone when its round ends.
  }
}
