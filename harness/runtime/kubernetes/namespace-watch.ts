// One watch per kind of object a run cares about (its pods, and the events about them) in
// its namespace, kept open for the whole run and reopened from the last resourceVersion
// when the server closes it (from now, when that version is gone); each object goes to
// whoever subscribed to its name.
import type { CoreV1Event, V1Pod } from "@kubernetes/client-node";
import type { KubeConnection } from "./kube-connection.ts";

const REOPEN_DELAY_MS = 200;
/** HTTP 410 Gone: the resourceVersion to resume from has been compacted away. */
const GONE = 410;

type Listener<T> = (type: "ADDED" | "MODIFIED" | "DELETED", object: T, atMs: number) => void;

class ObjectWatch<T extends { metadata?: { name?: string; resourceVersion?: string } }> {
  private readonly listeners = new Map<string, Set<Listener<T>>>();
  private abort: AbortController | null = null;
  private resourceVersion: string | undefined;
  private closed = false;
  private opening: Promise<void> | null = null;

  constructor(
    private readonly connection: KubeConnection,
    private readonly path: string,
    private readonly query: Record<string, string>,
    /** Which subscriber an object is for (a pod's name; an event's involved object's name). */
    private readonly keyOf: (object: T) => string | undefined,
  ) {}

  /** `listener` gets every change of the object named `key` from now on (once open() has run); the returned function unsubscribes. */
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
        if (type === "ERROR") {
          // The API server answers a watch from a compacted version with an ERROR event (a
          // Status with code 410) and ends it: resuming from that version would fail forever.
          if ((object as { code?: number } | null)?.code === GONE) this.resourceVersion = undefined;
          return;
        }
        if (object?.metadata?.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
        if (type !== "ADDED" && type !== "MODIFIED" && type !== "DELETED") return;
        const key = this.keyOf(object);
        for (const listener of (key && this.listeners.get(key)) || []) listener(type, object, atMs);
      },
      (error: unknown) => {
        if (this.closed) return;
        // The same refusal as the request's HTTP status (the client's error message is only "Gone").
        if ((error as { statusCode?: number } | null)?.statusCode === GONE) this.resourceVersion = undefined;
        this.reopenLater();
      },
    );
  }

  /** Reopens after a pause; a reopen that fails (the API server down a while) is tried again, until close(). */
  private reopenLater(): void {
    setTimeout(() => {
      if (this.closed) return;
      this.opening = this.connect().catch(() => this.reopenLater());
    }, REOPEN_DELAY_MS).unref();
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
