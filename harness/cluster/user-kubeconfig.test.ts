// `cluster up` / `cluster down` and the user's kubeconfig, on files in a temp folder: the
// cluster's entries go in and out, the context current before comes back, and nothing
// else in the file changes.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { mergeIntoUserKubeconfig, removeFromUserKubeconfig, userKubeconfigPath } from "./user-kubeconfig.ts";

const CONTEXT = "sidecar-bench";
const USER = "sidecar-bench-admin";

/** The cluster's admin kubeconfig, shaped as kubeconfigFor writes it (no real key material). */
const CLUSTER_KUBECONFIG = stringify({
  apiVersion: "v1",
  kind: "Config",
  clusters: [{ name: CONTEXT, cluster: { server: "https://127.0.0.1:16443", "certificate-authority-data": "Q0E=" } }],
  users: [{ name: USER, user: { "client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ" } }],
  contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user: USER } }],
  "current-context": CONTEXT,
});

/** A user's file as kubectl writes it, with a kind cluster and a work cluster. */
const USER_FILE = {
  apiVersion: "v1",
  clusters: [
    { cluster: { server: "https://127.0.0.1:6443", "certificate-authority-data": "a2luZA==" }, name: "kind-kind" },
    { cluster: { server: "https://k8s.example:443" }, name: "work" },
  ],
  contexts: [
    { context: { cluster: "kind-kind", user: "kind-kind" }, name: "kind-kind" },
    { context: { cluster: "work", namespace: "team", user: "me" }, name: "work" },
  ],
  "current-context": "work",
  kind: "Config",
  preferences: {},
  users: [
    { name: "kind-kind", user: { "client-certificate-data": "a2luZA==" } },
    { name: "me", user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "work-login" } } },
  ],
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "user-kubeconfig-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const read = (path: string) => parse(readFileSync(path, "utf8")) as Record<string, unknown> & { contexts: Array<{ name: string }>; clusters: Array<{ name: string }>; users: Array<{ name: string }> };
const names = (list: Array<{ name: string }>) => list.map((e) => e.name);
/** Written as kubectl writes it: YAML 1.1, such strings as "on" quoted. */
function userFile(doc: unknown = USER_FILE): string {
  const path = join(dir, "config");
  writeFileSync(path, stringify(doc, { version: "1.1" }));
  return path;
}

describe("userKubeconfigPath", () => {
  it("the first file of KUBECONFIG, as kubectl writes to it; else ~/.kube/config", () => {
    expect(userKubeconfigPath({ KUBECONFIG: "/a/config:/b/config" })).toBe("/a/config");
    expect(userKubeconfigPath({ KUBECONFIG: ":/b/config" })).toBe("/b/config");
    expect(userKubeconfigPath({ KUBECONFIG: "" })).toBe(join(homedir(), ".kube", "config"));
    expect(userKubeconfigPath({})).toBe(join(homedir(), ".kube", "config"));
  });
});

describe("mergeIntoUserKubeconfig", () => {
  it("creates a missing file (and its folder), private, with the cluster's context current", () => {
    const path = join(dir, "new", ".kube", "config");
    mergeIntoUserKubeconfig(path, CLUSTER_KUBECONFIG, CONTEXT);
    const doc = read(path);
    expect([names(doc.clusters), names(doc.users), names(doc.contexts)]).toEqual([[CONTEXT], [USER], [CONTEXT]]);
    expect(doc["current-context"]).toBe(CONTEXT);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.stringify(doc)).not.toContain("previous-context");
  });

  it("adds its entries to an existing file, keeps the others as they were, and makes its context current", () => {
    const path = userFile();
    mergeIntoUserKubeconfig(path, CLUSTER_KUBECONFIG, CONTEXT);
    const doc = read(path);
    expect(names(doc.contexts)).toEqual(["kind-kind", "work", CONTEXT]);
    expect(names(doc.clusters)).toEqual(["kind-kind", "work", CONTEXT]);
    expect(names(doc.users)).toEqual(["kind-kind", "me", USER]);
    for (const key of ["clusters", "contexts", "users"] as const) {
      for (const entry of USER_FILE[key]) expect(doc[key]).toContainEqual(entry);
    }
    expect(doc["current-context"]).toBe(CONTEXT);
  });

  it("a second up replaces its entries instead of adding them again, and remembers the context current before the first", () => {
    const path = userFile();
    mergeIntoUserKubeconfig(path, CLUSTER_KUBECONFIG, CONTEXT);
    mergeIntoUserKubeconfig(path, CLUSTER_KUBECONFIG.replace("16443", "16444"), CONTEXT);
    const doc = read(path);
    expect(names(doc.contexts)).toEqual(["kind-kind", "work", CONTEXT]);
    expect(names(doc.clusters).filter((n) => n === CONTEXT)).toHaveLength(1);
    expect(JSON.stringify(doc.clusters)).toContain("https://127.0.0.1:16444");
    removeFromUserKubeconfig(path, CONTEXT, USER);
    expect(read(path)["current-context"]).toBe("work");
  });
});

describe("the file as kubectl reads it (YAML 1.1, where a plain on, no or y is a boolean)", () => {
  it("keeps strings strings", () => {
    const tricky = {
      ...USER_FILE,
      contexts: [...USER_FILE.contexts, { context: { cluster: "work", namespace: "on", user: "y" }, name: "no" }],
      users: [...USER_FILE.users, { name: "y", user: { token: "off" } }],
    };
    const path = userFile(tricky);
    mergeIntoUserKubeconfig(path, CLUSTER_KUBECONFIG, CONTEXT);
    const asKubectlReadsIt = parse(readFileSync(path, "utf8"), { version: "1.1" }) as typeof tricky;
    expect(asKubectlReadsIt.contexts).toContainEqual({ context: { cluster: "work", namespace: "on", user: "y" }, name: "no" });
    expect(asKubectlReadsIt.users).toContainEqual({ name: "y", user: { token: "off" } });
    removeFromUserKubeconfig(path, CONTEXT, USER);
    expect(parse(readFileSync(path, "utf8"), { version: "1.1" })).toEqual(tricky);
  });
});

describe("removeFromUserKubeconfig", () => {
  it("up then down leaves the user's file as it was", () => {
    const path = userFile();
    mergeIntoUserKubeconfig(path, CLUSTER_KUBECONFIG, CONTEXT);
    expect(removeFromUserKubeconfig(path, CONTEXT, USER)).toBe(true);
    expect(read(path)).toEqual(USER_FILE);
  });

  it("keeps the context the user chose after up", () => {
    const path = userFile();
    mergeIntoUserKubeconfig(path, CLUSTER_KUBECONFIG, CONTEXT);
    const doc = read(path);
    writeFileSync(path, stringify({ ...doc, "current-context": "kind-kind" }));
    removeFromUserKubeconfig(path, CONTEXT, USER);
    expect(read(path)).toEqual({ ...USER_FILE, "current-context": "kind-kind" });
  });

  it("leaves no current context when the one current before is gone", () => {
    const path = userFile();
    mergeIntoUserKubeconfig(path, CLUSTER_KUBECONFIG, CONTEXT);
    const doc = read(path);
    writeFileSync(path, stringify({ ...doc, contexts: doc.contexts.filter((c) => c.name !== "work") }));
    removeFromUserKubeconfig(path, CONTEXT, USER);
    const after = read(path);
    expect(after).not.toHaveProperty("current-context");
    expect(names(after.contexts)).toEqual(["kind-kind"]);
  });

  it("a file that up created is left with nothing of the cluster's", () => {
    const path = join(dir, "config");
    mergeIntoUserKubeconfig(path, CLUSTER_KUBECONFIG, CONTEXT);
    expect(removeFromUserKubeconfig(path, CONTEXT, USER)).toBe(true);
    const doc = read(path);
    expect([doc.clusters, doc.users, doc.contexts]).toEqual([[], [], []]);
    expect(doc).not.toHaveProperty("current-context");
  });

  it("says so when the cluster's context was not there, and creates no file", () => {
    const path = userFile();
    expect(removeFromUserKubeconfig(path, CONTEXT, USER)).toBe(false);
    expect(read(path)).toEqual(USER_FILE);
    const missing = join(dir, "missing");
    expect(removeFromUserKubeconfig(missing, CONTEXT, USER)).toBe(false);
    expect(existsSync(missing)).toBe(false);
  });
});
