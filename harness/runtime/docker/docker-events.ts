// Container exits and OOM kills of one pod, from the engine's event stream (filtered by
// the pod's labels), so the pod reacts to a container's death as kubelet does.
import type Dockerode from "dockerode";
import type { Readable } from "node:stream";
import { LABEL_POD, LABEL_RUN_ID } from "./docker-labels.ts";

export interface ContainerEvent {
  containerId: string;
  action: "die" | "oom";
  exitCode?: number;
}

export interface EventSubscription {
  close(): void;
}

export async function subscribePodEvents(
  dockerode: Dockerode,
  labels: { runId: string; pod: string },
  onEvent: (event: ContainerEvent) => void,
): Promise<EventSubscription> {
  const filters = {
    type: ["container" as const],
    event: ["die", "oom"],
    label: [`${LABEL_RUN_ID}=${labels.runId}`, `${LABEL_POD}=${labels.pod}`],
  };
  const stream = (await dockerode.getEvents({ filters })) as unknown as Readable;
  let partial = "";
  stream.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines.filter(Boolean)) {
      const raw = JSON.parse(line) as { Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
      const containerId = raw.Actor?.ID;
      if (!containerId || (raw.Action !== "die" && raw.Action !== "oom")) continue;
      const code = raw.Actor?.Attributes?.exitCode;
      onEvent({ containerId, action: raw.Action, ...(code !== undefined ? { exitCode: Number(code) } : {}) });
    }
  });
  stream.on("error", () => undefined); // closing the subscription aborts the request
  return { close: () => stream.destroy() };
}
