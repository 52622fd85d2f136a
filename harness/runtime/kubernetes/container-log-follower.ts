// A container's log as the API serves it (the kubelet's own, capped by its
// containerLogMaxSize): followed from the moment the container runs, and again for each
// new instance after a restart, into the same ContainerLog as on the other runtimes (a
// capped file under the run's folder, a bounded tail in memory for logs()).
import { PassThrough } from "node:stream";
import type { ContainerLog } from "../logs/container-log.ts";
import type { KubeConnection } from "./kube-connection.ts";
import { firstLine } from "./kube-connection.ts";

export class ContainerLogFollower {
  private followedId: string | null = null;
  private abort: AbortController | null = null;
  private ended: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly connection: KubeConnection,
    private readonly namespace: string,
    private readonly podName: string,
    private readonly containerName: string,
    readonly log: ContainerLog,
  ) {}

  /** Follows the instance `containerId` unless it already does; called on each status change. */
  follow(containerId: string): void {
    if (this.closed || containerId === this.followedId) return;
    this.followedId = containerId;
    const previous = this.ended;
    this.ended = previous.then(() => this.stream());
  }

  private async stream(): Promise<void> {
    // A follow queued behind the previous instance's stream, which ended after close().
    if (this.closed) return;
    const sink = new PassThrough();
    sink.on("data", (chunk: Buffer) => this.log.append(chunk));
    const finished = new Promise<void>((resolve) => {
      sink.once("end", resolve);
      sink.once("error", () => resolve());
    });
    try {
      const abort = await this.connection.log.log(this.namespace, this.podName, this.containerName, sink, { follow: true });
      // close() ran while the request was under way and aborted nothing: this stream must not outlive it.
      if (this.closed) {
        abort.abort();
        return;
      }
      this.abort = abort;
    } catch (error) {
      if (!this.closed) this.log.note(`log stream of the API failed: ${firstLine(error)}`);
      return;
    }
    await finished;
  }

  /** Stops following; waits (briefly) for what the stream still delivers. */
  async close(waitMs = 1_000): Promise<void> {
    const drained = this.ended;
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
    this.closed = true;
    this.abort?.abort();
    this.log.close();
  }
}
