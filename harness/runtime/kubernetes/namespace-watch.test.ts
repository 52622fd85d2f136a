// NamespaceWatch's reopening, on a stand-in for the client's Watch: the versions it
// resumes from, a version the API server has compacted away (410 as a watch ERROR event
// or as the request's status), and reopens that fail while the API server is down.
import { describe, expect, it } from "vitest";
import type { KubeConnection } from "./kube-connection.ts";
import { NamespaceWatch } from "./namespace-watch.ts";

type Callback = (type: string, object: unknown) => void;
type Done = (error: unknown) => void;

/** Records each watch request; the test plays the server through `current`. */
function standIn(failOpens = 0) {
  const requests: Array<{ path: string; query: Record<string, string> }> = [];
  const current: { callback: Callback; done: Done } = { callback: () => undefined, done: () => undefined };
  let failures = failOpens;
  const connection = {
    watch: {
      async watch(path: string, query: Record<string, string>, callback: Callback, done: Done): Promise<AbortController> {
        requests.push({ path, query });
        // After the first open, as the client fails when it cannot build the request (credentials, no cluster).
        if (requests.length > 1 && failures > 0) {
          failures--;
          throw new Error("no currently active cluster");
        }
        Object.assign(current, { callback, done });
        return new AbortController();
      },
    },
  } as unknown as KubeConnection;
  return { connection, requests, current };
}

const pod = (name: string, resourceVersion: string) => ({ metadata: { name, resourceVersion } });
const podRequests = (requests: Array<{ path: string; query: Record<string, string> }>) => requests.filter((r) => r.path.endsWith("/pods"));

describe("NamespaceWatch", () => {
  it("hands each pod to its subscriber and resumes from the last version when the server ends the watch", async () => {
    const { connection, requests, current } = standIn();
    const watch = new NamespaceWatch(connection, "ns", "run=1");
    const seen: string[] = [];
    watch.pods.subscribe("a", (type, object) => seen.push(`${type} ${object.metadata?.name}`));
    await watch.pods.open();
    current.callback("ADDED", pod("a", "5"));
    current.callback("ADDED", pod("b", "6"));
    current.callback("BOOKMARK", { metadata: { resourceVersion: "9" } });
    expect(seen).toEqual(["ADDED a"]);
    current.done(null);
    await expect.poll(() => podRequests(requests).length).toBe(2);
    expect(podRequests(requests)[1]!.query).toMatchObject({ resourceVersion: "9", labelSelector: "run=1" });
    watch.close();
  });

  it("starts over from now when the version is gone: a 410 ERROR event, or the request's 410 status", async () => {
    const { connection, requests, current } = standIn();
    const watch = new NamespaceWatch(connection, "ns", "run=1");
    await watch.pods.open();
    current.callback("ADDED", pod("a", "5"));
    current.callback("ERROR", { kind: "Status", code: 410, reason: "Expired", message: "too old resource version: 5 (80)" });
    current.done(null);
    await expect.poll(() => podRequests(requests).length).toBe(2);
    expect(podRequests(requests)[1]!.query["resourceVersion"]).toBeUndefined();

    current.callback("ADDED", pod("a", "90"));
    current.done(Object.assign(new Error("Gone"), { statusCode: 410 }));
    await expect.poll(() => podRequests(requests).length).toBe(3);
    expect(podRequests(requests)[2]!.query["resourceVersion"]).toBeUndefined();
    watch.close();
  });

  it("keeps trying to reopen while reopening fails, and stops once closed", async () => {
    const { connection, requests, current } = standIn(2);
    const watch = new NamespaceWatch(connection, "ns", "run=1");
    await watch.pods.open();
    current.done(new Error("socket hang up"));
    await expect.poll(() => podRequests(requests).length, { timeout: 5_000 }).toBe(4);
    watch.close();
    current.done(null);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(podRequests(requests)).toHaveLength(4);
  });
});
