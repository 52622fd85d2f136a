// What the reference primary saw of its secret file (GET /v2/debug/secret, asked directly):
// the file's state when it started and now (exists, mode, sha256 of the value), and every
// change its 100 ms stat poll noticed. The checks judge the sidecar by it: the primary is
// the reader the file is for, and it never exposes the value, only its hash.
import { createHash } from "node:crypto";
import { describeOutcome, timedRequest } from "../support/timed-request.ts";

export interface FileState {
  exists: boolean;
  /** Permission bits as four octal digits ("0400"); null when absent. */
  mode: string | null;
  /** sha256 (hex) of the value with one trailing "\n" stripped; null when absent or unreadable. */
  sha256: string | null;
}

export interface SecretChange {
  /** Wall-clock ms (the primary's clock) of the poll that noticed it. */
  atMs: number;
  sha256: string | null;
}

export interface PrimarySecretView {
  atStartup: FileState;
  current: FileState;
  /** Times the primary read the file. */
  loads: number;
  changes: SecretChange[];
}

interface RawView {
  at_startup: FileState;
  current: FileState;
  loads: number;
  changes: Array<{ at_ms: number; sha256: string | null }>;
}

export async function primarySecret(directUrl: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<PrimarySecretView> {
  const outcome = await timedRequest(directUrl, { method: "GET", path: "/v2/debug/secret" }, options);
  if (outcome.status !== 200 || !outcome.body) {
    throw new Error(`GET ${directUrl}/v2/debug/secret: expected 200 with the primary's view of its secret file (PRIMARY_API_KEY_FILE), got ${describeOutcome(outcome)}`);
  }
  const raw = JSON.parse(outcome.body.toString("utf8")) as RawView;
  return { atStartup: raw.at_startup, current: raw.current, loads: raw.loads, changes: raw.changes.map((c) => ({ atMs: c.at_ms, sha256: c.sha256 })) };
}

/** sha256 hex of a value, as the primary hashes what it read. */
export function sha256Hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

const OWNER_READ = 0o400;

/**
 * Mode 0400 or stricter: the owner may read, nobody else anything, no write or execute
 * bits for anyone, no setuid/setgid/sticky bits. 0000 counts as stricter (a root reader
 * still reads it; any other reader cannot, which the value comparison then shows).
 */
export function isStrictMode(mode: string | null): boolean {
  if (mode === null || !/^[0-7]{3,4}$/.test(mode)) return false;
  return (Number.parseInt(mode, 8) & ~OWNER_READ) === 0;
}

/** Whether mode `after` grants anything `before` did not. */
export function modeLoosened(before: string | null, after: string | null): boolean {
  if (before === null || after === null) return false;
  return (Number.parseInt(after, 8) & ~Number.parseInt(before, 8)) !== 0;
}

/** Names the values a check knows (by sha256) so evidence says "rotation 1", not a hash. */
export class KnownValues {
  private readonly names = new Map<string, string>();

  add(label: string, value: string): string {
    const sha = sha256Hex(value);
    this.names.set(sha, label);
    return sha;
  }

  name(sha256: string | null): string {
    if (sha256 === null) return "no readable value";
    return this.names.get(sha256) ?? `an unknown value (sha256 ${sha256.slice(0, 12)}…)`;
  }

  /** "rotation 1, mode 0400", "absent", "the seeded secret, mode 0644". */
  describe(state: FileState): string {
    if (!state.exists) return "absent";
    return `${this.name(state.sha256)}, mode ${state.mode ?? "unknown"}`;
  }
}
