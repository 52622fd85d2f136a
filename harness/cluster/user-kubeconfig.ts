// `cluster up` makes the cluster the current context of the user's kubeconfig, as `kind
// create cluster` does, and `cluster down` takes it out again and restores the context
// that was current before. Only entries named after the cluster's context are touched.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { parse, stringify } from "yaml";

interface Named {
  name: string;
  [key: string]: unknown;
}

interface KubeconfigDocument {
  apiVersion?: string;
  kind?: string;
  clusters?: Named[];
  users?: Named[];
  contexts?: Named[];
  "current-context"?: string;
  /** Where `down` restores current-context to; kept in the file's own preferences. */
  preferences?: Record<string, unknown>;
  [key: string]: unknown;
}

const PREVIOUS_CONTEXT_KEY = "sidecar-bench-previous-context";

/** The file kubectl writes to: the first of $KUBECONFIG, else ~/.kube/config. */
export function userKubeconfigPath(env: NodeJS.ProcessEnv): string {
  const first = (env["KUBECONFIG"] ?? "").split(":").find(Boolean);
  return first ?? join(homedir(), ".kube", "config");
}

function read(path: string): KubeconfigDocument {
  if (!existsSync(path)) return { apiVersion: "v1", kind: "Config", clusters: [], users: [], contexts: [] };
  const parsed = parse(readFileSync(path, "utf8")) as KubeconfigDocument | null;
  return parsed ?? { apiVersion: "v1", kind: "Config" };
}

function write(path: string, doc: KubeconfigDocument): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.sidecar-bench-${process.pid}`;
  // kubectl reads YAML 1.1, where a plain on, no, y… is a boolean: written as 1.1, such strings are quoted.
  writeFileSync(temp, stringify(doc, { version: "1.1" }), { mode: 0o600 });
  renameSync(temp, path);
}

function replaceNamed(list: Named[] | undefined, entries: Named[], names: Set<string>): Named[] {
  return [...(list ?? []).filter((e) => !names.has(e.name)), ...entries];
}

/** Merges the cluster's admin kubeconfig (one cluster, user and context) and makes its context current. */
export function mergeIntoUserKubeconfig(path: string, clusterKubeconfig: string, contextName: string): void {
  const ours = parse(clusterKubeconfig) as KubeconfigDocument;
  const doc = read(path);
  const names = new Set([contextName, ...(ours.users ?? []).map((u) => u.name)]);
  const previous = doc["current-context"];
  doc.clusters = replaceNamed(doc.clusters, ours.clusters ?? [], names);
  doc.users = replaceNamed(doc.users, ours.users ?? [], names);
  doc.contexts = replaceNamed(doc.contexts, ours.contexts ?? [], names);
  if (previous && previous !== contextName) doc.preferences = { ...(doc.preferences ?? {}), [PREVIOUS_CONTEXT_KEY]: previous };
  doc["current-context"] = contextName;
  write(path, doc);
}

/** Removes the cluster's entries; the context current before `up` becomes current again. */
export function removeFromUserKubeconfig(path: string, contextName: string, userName: string): boolean {
  if (!existsSync(path)) return false;
  const doc = read(path);
  const names = new Set([contextName, userName]);
  const had = (doc.contexts ?? []).some((c) => c.name === contextName);
  doc.clusters = (doc.clusters ?? []).filter((e) => !names.has(e.name));
  doc.users = (doc.users ?? []).filter((e) => !names.has(e.name));
  doc.contexts = (doc.contexts ?? []).filter((e) => !names.has(e.name));
  if (doc["current-context"] === contextName) {
    const previous = doc.preferences?.[PREVIOUS_CONTEXT_KEY];
    if (typeof previous === "string" && doc.contexts.some((c) => c.name === previous)) doc["current-context"] = previous;
    else delete doc["current-context"];
  }
  if (doc.preferences) delete doc.preferences[PREVIOUS_CONTEXT_KEY];
  write(path, doc);
  return had;
}
