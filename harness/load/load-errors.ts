// Failed requests counted by kind: an HTTP status ("503"), "timeout", "connection",
// "aborted" (the caller's signal), or "other:<code>" for anything unexpected — so a run
// report says what went wrong instead of one opaque error count.

/** Keys are status codes as strings, or one of the kinds above. */
export type ErrorCounts = Record<string, number>;

export function countError(counts: ErrorCounts, kind: string): void {
  counts[kind] = (counts[kind] ?? 0) + 1;
}

export function totalErrors(counts: ErrorCounts): number {
  let total = 0;
  for (const n of Object.values(counts)) total += n;
  return total;
}

const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT", "ETIMEDOUT"]);
const CONNECTION_CODES = new Set(["UND_ERR_SOCKET", "UND_ERR_CLOSED", "UND_ERR_DESTROYED", "UND_ERR_INFO"]);

/** Maps a transport error (undici or node:net) to an error kind. */
export function classifyTransportError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return `other:${(err as Error | null)?.name ?? "unknown"}`;
  if (TIMEOUT_CODES.has(code)) return "timeout";
  // Errno codes from the socket layer: ECONNREFUSED, ECONNRESET, EPIPE, EADDRNOTAVAIL, ...
  if (CONNECTION_CODES.has(code) || /^E[A-Z]+$/.test(code)) return "connection";
  return `other:${code}`;
}
