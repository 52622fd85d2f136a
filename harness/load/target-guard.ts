// Load is only ever sent to this machine's loopback: the workplace forbids traffic to
// any other address, and a typo in a URL must not turn a benchmark into a flood.
import { isIPv4, isIPv6 } from "node:net";

/** True for 127.0.0.0/8, ::1, IPv4-mapped loopback and the name "localhost". */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  if (host.toLowerCase() === "localhost") return true;
  if (isIPv4(host)) return host.split(".")[0] === "127";
  if (isIPv6(host)) {
    const lower = host.toLowerCase();
    if (lower === "::1") return true;
    // The URL parser rewrites ::ffff:127.0.0.1 as ::ffff:7f00:1.
    return /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(lower) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(lower);
  }
  return false;
}

/**
 * Addresses of pods this process created on a cluster: the kubernetes runtime admits a
 * pod's address once the pod has one and withdraws it when the pod is stopped (counted,
 * since a stopped pod's address may be reused by the next). Process-wide on purpose: the
 * guard must hold for every request whoever sends it, and only the runtime that created
 * a pod can vouch for its address.
 */
const ownPodAddresses = new Map<string, number>();

/** Lets load reach `address` (a pod this process created) until the returned function is called. */
export function admitPodAddress(address: string): () => void {
  ownPodAddresses.set(address, (ownPodAddresses.get(address) ?? 0) + 1);
  let withdrawn = false;
  return () => {
    if (withdrawn) return;
    withdrawn = true;
    const count = (ownPodAddresses.get(address) ?? 1) - 1;
    if (count <= 0) ownPodAddresses.delete(address);
    else ownPodAddresses.set(address, count);
  };
}

export function isOwnPodAddress(hostname: string): boolean {
  const host = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  return ownPodAddresses.has(host);
}

/**
 * Parses `url` and throws unless it is http(s) on a loopback host or a pod this process
 * created, or `allowRemote` is explicitly true. Returns the parsed URL.
 */
export function assertLoadTarget(url: string | URL, allowRemote = false): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`load target ${JSON.stringify(String(url))} is not a valid URL; expected e.g. http://127.0.0.1:8080`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(`load target ${parsed.href} must use http: or https:, not ${parsed.protocol}`);
  }
  if (!allowRemote && !isLoopbackHost(parsed.hostname) && !isOwnPodAddress(parsed.hostname)) {
    throw new Error(
      `refusing to send load to ${parsed.hostname}: only loopback targets (127.0.0.0/8, ::1, localhost) and pods ` +
        `this run created are allowed; pass allowRemote: true to target another host on purpose`,
    );
  }
  return parsed;
}
