// One watch per kind of object a run cares about (its pods, and the events about them) in
// its namespace, kept open for the whole run and reopened from the last resourceVersion
// when the server closes it; each object goes to whoever subscribed to its name.
import type { CoreV1Event, V1Pod } from "@kubernetes/client-node";
import type { KubeConnection } from "./kube-connection.ts";
import { firstLine } from "./kube-connection.ts";

const REOPEN_DELAY_MS = 200;

type Listener<T> = (type: "ADDED" | "MODIFIED" | "DELETED", object: T, atMs: number) => void;

class ObjectWatch<T extends { metadata?: { name?: string; resourceVersion?: string } }> {
  private readonly listeners = new Map<string, Set<Listener<T>>>();
  private abort: AbortController | null = null;
  private resourceVersion: string | undefined;
  private closed = false;
  private opening: Promise<void> | null = null;
  lastError: string | null = null;

  constructor(
    private readonly connection: KubeConnection,
    private readonly path: string,
    private readonly query: Record<string, string>,
    /** Which subscriber an object is for (a pod's name; an event's involved object's name). */
    private readonly keyOf: (object: T) => string | undefined,
  ) {}

  /** Opens the watch on first use. */
  subscribe(key: string, listener: Listener<T>): () => void {
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  open(): Promise<void> {
    this.opening ??= this.connect();
    return this.opening;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const query = { ...this.query, allowWatchBookmarks: "true", ...(this.resourceVersion ? { resourceVersion: this.resourceVersion } : {}) };
    this.abort = await this.connection.watch.watch(
      this.path,
      query,
      (type, object: T) => {
        const atMs = performance.now();
        if (object?.metadata?.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
        if (type !== "ADDED" && type !== "MODIFIED" && type !== "DELETED") return;
        const key = this.keyOf(object);
        for (const listener of (key && this.listeners.get(key)) || []) listener(type, object, atMs);
      },
      (error: unknown) => {
        if (this.closed) return;
        if (error) this.lastError = firstLine(error);
        // 410 Gone: the version is too old to resume from; start over from now.
        if (error && /\b410\b|too old/i.test(String((error as Error).message ?? error))) this.resourceVersion = undefined;
        setTimeout(() => {
          this.opening = this.connect().catch((e: unknown) => void (this.lastError = firstLine(e)));
        }, REOPEN_DELAY_MS).unref();
      },
    );
  }

  close(): void {
    this.closed = true;
    this.abort?.abort();
  }
}

export class NamespaceWatch {
  readonly pods: ObjectWatch<V1Pod>;
  readonly events: ObjectWatch<CoreV1Event>;

  constructor(connection: KubeConnection, namespace: string, runLabelSelector: string) {
    this.pods = new ObjectWatch<V1Pod>(connection, `/api/v1/namespaces/${namespace}/pods`, { labelSelector: runLabelSelector }, (pod) => pod.metadata?.name);
    this.events = new ObjectWatch<CoreV1Event>(connection, `/api/v1/namespaces/${namespace}/events`, {}, (event) =>
      event.involvedObject?.kind === "Pod" ? event.involvedObject.name : undefined,
    );
  }

  async open(): Promise<void> {
    await Promise.all([this.pods.open(), this.events.open()]);
  }

  close(): void {
    this.pods.close();
    this.events.close();
  }
}
