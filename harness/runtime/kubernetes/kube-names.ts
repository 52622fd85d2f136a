// Names and labels on the Kubernetes objects a run creates. Names must be DNS labels
// (lower case, digits, '-', at most 63); label values at most 63 characters. The owner
// labels let a later run on this host reap what a killed harness left (as on docker:
// pid + start time guards against pid reuse; the host name keeps one machine from
// reaping another's runs on a shared cluster).
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { ownerOf } from "../local/run-labels.ts";

export const LABEL_RUN_ID = "sidecar-bench/run-id";
export const LABEL_POD = "sidecar-bench/pod";
export const LABEL_OWNER_PID = "sidecar-bench/owner-pid";
export const LABEL_OWNER_START = "sidecar-bench/owner-start";
export const LABEL_OWNER_HOST = "sidecar-bench/owner-host";
/** What an object is to the run: "pod-under-test", "load-generator", "config". */
export const LABEL_ROLE = "sidecar-bench/role";
/** The namespace a run created for itself (deleted with everything in it). */
export const LABEL_RUN_NAMESPACE = "sidecar-bench/run-namespace";

/** A DNS label made from any text: lower case, other runs of characters to '-', at most 63; a hash suffix whenever it had to change, so distinct names stay distinct. */
export function dnsLabel(text: string, maxLength = 63): string {
  const cleaned = text.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "x";
  if (cleaned === text && cleaned.length <= maxLength) return cleaned;
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 5);
  return `${cleaned.slice(0, maxLength - 6).replace(/-+$/, "")}-${hash}`;
}

/** A label value: at most 63 of [A-Za-z0-9-_.], starting and ending alphanumeric. */
export function labelValue(text: string): string {
  const value = text.replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
  return value || "x";
}

export function runNamespace(runId: string): string {
  return dnsLabel(`sidecar-bench-${runId}`);
}

export interface OwnerIdentity {
  pid: string;
  start: string;
  host: string;
}

export function ownerIdentity(pid = process.pid): OwnerIdentity {
  const [ownerPid, start] = ownerOf(pid).split(":");
  return { pid: ownerPid!, start: start!, host: labelValue(hostname()) };
}

export function ownerLabels(owner: OwnerIdentity): Record<string, string> {
  return { [LABEL_OWNER_PID]: owner.pid, [LABEL_OWNER_START]: owner.start, [LABEL_OWNER_HOST]: owner.host };
}

export function runLabels(runId: string, owner: OwnerIdentity): Record<string, string> {
  return { [LABEL_RUN_ID]: labelValue(runId), ...ownerLabels(owner) };
}
