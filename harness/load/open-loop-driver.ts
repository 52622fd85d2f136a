// Who sends a benchmark's open-loop rounds: this process (local and docker runtimes), or a
// generator beside the pods under test (kubernetes: a pod in the cluster, so requests take
// the path a cluster's clients take and no port-forward adds its own cost). Either way
// the same runInterleavedOpenLoop runs the schedule, and the results are the same values.
import type { StartedPod } from "../runtime/pod-runtime.ts";
import { runInterleavedOpenLoop, type OpenLoopResult } from "./open-loop.ts";
import type { RoundOptions } from "./remote/remote-protocol.ts";

export interface OpenLoopDriver {
  /** Where the generator runs, for the environment fingerprint. */
  readonly description: string;
  /** The URL the generator reaches `port` of `container` at. */
  targetUrl(pod: StartedPod, container: string, port: string): string;
  run(options: RoundOptions & { signal?: AbortSignal }): Promise<OpenLoopResult[]>;
  close(): Promise<void>;
}

export const IN_PROCESS_DRIVER: OpenLoopDriver = {
  description: "sidecar-bench open loop (undici), in the harness's process",
  targetUrl: (pod, container, port) => pod.url(container, port),
  run: (options) => runInterleavedOpenLoop(options),
  close: async () => undefined,
};
