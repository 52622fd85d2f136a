// KubeConnection.load on kubeconfig files in a temp folder (no cluster needed), and
// firstLine on errors as @kubernetes/client-node raises them (bodies recorded from the
// project's cluster).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiException } from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { firstLine, KubeConnection, KubernetesUnavailableError, NO_CLUSTER_HINT } from "./kube-connection.ts";

const dir = mkdtempSync(join(tmpdir(), "kube-connection-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(name: string, doc: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof doc === "string" ? doc : stringify(doc));
  return path;
}

// Nothing listens on port 1 of loopback: a server that does not answer.
const twoClusters = kubeconfig("two-clusters.yaml", {
  apiVersion: "v1",
  kind: "Config",
  clusters: [
    { name: "dev", cluster: { server: "https://127.0.0.1:1" } },
    { name: "bench", cluster: { server: "https://127.0.0.1:2" } },
  ],
  users: [{ name: "me", user: { token: "not-a-secret" } }],
  contexts: [
    { name: "dev", context: { cluster: "dev", user: "me" } },
    { name: "bench", context: { cluster: "bench", user: "me", namespace: "team" } },
  ],
  "current-context": "dev",
});

describe("KubeConnection.load", () => {
  it("takes the file's current context", () => {
    const connection = KubeConnection.load({ kubeconfig: twoClusters });
    expect([connection.contextName, connection.server]).toEqual(["dev", "https://127.0.0.1:1"]);
  });

  it("takes the context the user names", () => {
    const connection = KubeConnection.load({ kubeconfig: twoClusters, context: "bench" });
    expect([connection.contextName, connection.server]).toEqual(["bench", "https://127.0.0.1:2"]);
  });

  it("KUBECONFIG when no file is named", () => {
    const before = process.env["KUBECONFIG"];
    process.env["KUBECONFIG"] = twoClusters;
    try {
      expect(KubeConnection.load({}).server).toBe("https://127.0.0.1:1");
    } finally {
      if (before === undefined) delete process.env["KUBECONFIG"];
      else process.env["KUBECONFIG"] = before;
    }
  });

  it("a missing file: an error naming it and how to get a cluster", () => {
    const missing = join(dir, "nope.yaml");
    expect(() => KubeConnection.load({ kubeconfig: missing })).toThrow(KubernetesUnavailableError);
    expect(() => KubeConnection.load({ kubeconfig: missing })).toThrow(`kubeconfig ${missing} does not exist; ${NO_CLUSTER_HINT}`);
  });

  it("an unknown context: an error listing the contexts there are", () => {
    expect(() => KubeConnection.load({ kubeconfig: twoClusters, context: "prod" })).toThrow(`the kubeconfig has no context "prod" (it has: dev, bench)`);
    const none = kubeconfig("no-contexts.yaml", { apiVersion: "v1", kind: "Config", clusters: [], users: [], contexts: [] });
    expect(() => KubeConnection.load({ kubeconfig: none, context: "prod" })).toThrow(`the kubeconfig has no context "prod" (it has: none)`);
  });

  it("a file that is no kubeconfig: an error naming it", () => {
    const broken = kubeconfig("broken.yaml", "clusters: [unclosed\n");
    expect(() => KubeConnection.load({ kubeconfig: broken })).toThrow(KubernetesUnavailableError);
    expect(() => KubeConnection.load({ kubeconfig: broken })).toThrow(`cannot read the kubeconfig ${broken}: unexpected end of the stream`);
    expect(() => KubeConnection.load({ kubeconfig: broken })).toThrow(NO_CLUSTER_HINT);
  });

  it("no current context: an error saying so", () => {
    const noCurrent = kubeconfig("no-current.yaml", { apiVersion: "v1", kind: "Config", clusters: [{ name: "dev", cluster: { server: "https://127.0.0.1:1" } }], users: [], contexts: [] });
    expect(() => KubeConnection.load({ kubeconfig: noCurrent })).toThrow(`no current Kubernetes context; ${NO_CLUSTER_HINT}`);
  });

  it("an API server that does not answer: an error naming the context and server", async () => {
    const connection = KubeConnection.load({ kubeconfig: twoClusters });
    await expect(connection.serverVersion()).rejects.toThrow(KubernetesUnavailableError);
    await expect(connection.serverVersion()).rejects.toThrow(/^the API server of context "dev" \(https:\/\/127\.0\.0\.1:1\) does not answer: .*ECONNREFUSED/);
  });
});

// Response bodies of the project's cluster (v1.34.4), as the client keeps them: text.
const NOT_FOUND = '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \\"no-such-pod\\" not found","reason":"NotFound","details":{"name":"no-such-pod","kind":"pods"},"code":404}\n';
const ALREADY_EXISTS = '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"namespaces \\"sb-unit-tests-check\\" already exists","reason":"AlreadyExists","details":{"name":"sb-unit-tests-check","kind":"namespaces"},"code":409}\n';
const headers = { "audit-id": "73ce1abd-9c16-4333-bf0f-65b3061320ca", "content-type": "application/json" };

describe("firstLine", () => {
  it("the API's message of an ApiException whose body is the response's text", () => {
    expect(firstLine(new ApiException(404, "Unknown API Status Code!", NOT_FOUND, headers))).toBe('pods "no-such-pod" not found');
    expect(firstLine(new ApiException(409, "Unknown API Status Code!", ALREADY_EXISTS, headers))).toBe('namespaces "sb-unit-tests-check" already exists');
  });

  it("the API's message of an ApiException whose body is the parsed Status", () => {
    expect(firstLine(new ApiException(403, "Forbidden", JSON.parse(NOT_FOUND.replace("not found", "is forbidden")), headers))).toBe('pods "no-such-pod" is forbidden');
  });

  it("a Status message inside another error's text", () => {
    expect(firstLine(new Error(`watch failed: {"kind":"Status","message":"too old resource version: 1 (2)","code":410}`))).toBe("too old resource version: 1 (2)");
  });

  it("else the error's first line, at most 300 characters", () => {
    expect(firstLine(new ApiException(500, "Internal", "<html>oops</html>", headers))).toBe("HTTP-Code: 500");
    expect(firstLine(new Error("connect ECONNREFUSED 127.0.0.1:16443\n    at TCPConnectWrap.afterConnect"))).toBe("connect ECONNREFUSED 127.0.0.1:16443");
    expect(firstLine("x".repeat(400))).toHaveLength(300);
    expect(firstLine(undefined)).toBe("undefined");
  });

  it("the message of an error event that is no Error (a WebSocket's, from exec or port-forward)", () => {
    expect(firstLine({ type: "error", message: "Unexpected server response: 403", error: new Error("x") })).toBe("Unexpected server response: 403");
  });
});
