// What a proxy may and may not do to the trace context it forwards, from W3C Trace
// Context (traceparent/tracestate: "Mutating the traceparent Field", "Mutating the
// tracestate Field") and W3C Baggage ("Mutating baggage"), for a sidecar that sits
// between a caller and its model server:
// - traceparent MUST be forwarded and stay well-formed; a tracing proxy MAY replace the
//   parent-id (its own span), and with a new parent-id MAY update the sampled flag, which
//   then says whether *it* recorded (W3C "Update sampled": either direction; the parent-id
//   MUST change with it). A sidecar that clears a caller's sampled=1 that way is allowed,
//   though W3C asks it to respect the caller's decision (SHOULD): checks report it, they
//   do not fail it. The trace-id is kept: a restart is W3C's mutation for the front gate
//   of a secure network, which a sidecar behind the caller is not — it cuts every trace
//   at the pod.
// - tracestate MUST be forwarded; unchanged when traceparent is unchanged; otherwise the
//   caller's members keep their relative order, a member the proxy modified moves to the
//   left, new members are allowed (W3C: at the left, SHOULD), at most 32 members, and the
//   caller's members are not deleted (SHOULD NOT; a short list is no reason to truncate).
// - baggage: members may be added (W3C Baggage MAY); the caller's members arrive.
// Each function judges the value the primary echoed back and returns the problems in
// words; none means the header was forwarded as the standards allow.

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const TRACESTATE_KEY = /^[a-z0-9][a-z0-9_\-*/@]{0,255}$/;
const TRACESTATE_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
const MAX_TRACESTATE_MEMBERS = 32;
const SAMPLED = 0x01;

export interface Traceparent {
  version: string;
  traceId: string;
  parentId: string;
  flags: number;
}

/** The traceparent's fields, or null when it is not a valid version-00 value (W3C regex, no all-zero ids, version ≠ ff). */
export function parseTraceparent(value: string | undefined): Traceparent | null {
  const match = value === undefined ? null : TRACEPARENT.exec(value.trim());
  if (!match) return null;
  const [, version, traceId, parentId, flags] = match as unknown as [string, string, string, string, string];
  if (version === "ff" || /^0+$/.test(traceId) || /^0+$/.test(parentId)) return null;
  return { version, traceId, parentId, flags: Number.parseInt(flags, 16) };
}

/** Problems of the traceparent the primary received, given the one the client sent. */
export function traceparentProblems(sent: string, received: string | undefined): string[] {
  const want = parseTraceparent(sent);
  if (!want) throw new Error(`the check sent an invalid traceparent ${JSON.stringify(sent)}`);
  if (received === undefined) return ["traceparent missing from what the primary echoed (W3C: a receiver MUST send it on)"];
  const got = parseTraceparent(received);
  if (!got) return [`traceparent reached the primary as ${JSON.stringify(received)}, which is not a valid traceparent`];
  const problems: string[] = [];
  if (got.version !== want.version) problems.push(`traceparent version ${got.version}, sent ${want.version}`);
  if (got.traceId !== want.traceId) problems.push(`trace-id ${got.traceId}, sent ${want.traceId}: the trace is cut at the sidecar`);
  if ((got.flags & SAMPLED) !== (want.flags & SAMPLED) && got.parentId === want.parentId) {
    problems.push(`sampled flag changed (${hex(want.flags)} → ${hex(got.flags)}) without a new parent-id (W3C: the parent-id MUST change with it)`);
  }
  return problems;
}

/** True when a caller's sampled=1 reached the primary as 0 (allowed with a new parent-id; worth reporting). */
export function sampledCleared(sent: string, received: string | undefined): boolean {
  const want = parseTraceparent(sent);
  const got = parseTraceparent(received);
  return want !== null && got !== null && (want.flags & SAMPLED) !== 0 && (got.flags & SAMPLED) === 0;
}

const hex = (flags: number) => flags.toString(16).padStart(2, "0");

export interface ListMember {
  key: string;
  value: string;
}

/** tracestate list-members (empty members and optional whitespace dropped, as W3C allows). */
export function parseTracestate(value: string | undefined): ListMember[] {
  if (value === undefined) return [];
  return value
    .split(",")
    .map((member) => member.trim())
    .filter((member) => member !== "")
    .map((member) => {
      const at = member.indexOf("=");
      return at < 0 ? { key: member, value: "" } : { key: member.slice(0, at), value: member.slice(at + 1) };
    });
}

/** Problems of the tracestate the primary received; `traceparentChanged` when the proxy took part in the trace. */
export function tracestateProblems(sent: string, received: string | undefined, traceparentChanged: boolean): string[] {
  const want = parseTracestate(sent);
  if (received === undefined) return want.length > 0 ? ["tracestate missing from what the primary echoed (W3C: a receiver MUST send it on)"] : [];
  const got = parseTracestate(received);
  const show = (members: ListMember[]) => JSON.stringify(members.map((m) => `${m.key}=${m.value}`).join(","));
  if (!traceparentChanged) {
    const same = got.length === want.length && got.every((m, i) => m.key === want[i]!.key && m.value === want[i]!.value);
    return same ? [] : [`tracestate reached the primary as ${show(got)}, sent ${show(want)}, with traceparent unchanged (W3C: then tracestate MUST NOT change)`];
  }
  const problems: string[] = [];
  const malformed = got.filter((m) => !TRACESTATE_KEY.test(m.key) || !TRACESTATE_VALUE.test(m.value));
  if (malformed.length > 0) problems.push(`tracestate members not well-formed: ${malformed.map((m) => JSON.stringify(`${m.key}=${m.value}`)).join(", ")}`);
  if (got.length > MAX_TRACESTATE_MEMBERS) problems.push(`tracestate has ${got.length} members (at most ${MAX_TRACESTATE_MEMBERS})`);
  const keys = got.map((m) => m.key);
  const repeated = keys.filter((key, i) => keys.indexOf(key) !== i);
  if (repeated.length > 0) problems.push(`tracestate repeats keys ${[...new Set(repeated)].join(", ")}`);
  const position = new Map(got.map((m, i) => [m.key, i]));
  const deleted = want.filter((m) => !position.has(m.key));
  if (deleted.length > 0) problems.push(`the caller's tracestate members ${deleted.map((m) => m.key).join(", ")} were deleted (sent ${show(want)}, received ${show(got)})`);
  const kept = want.filter((m) => got.some((g) => g.key === m.key && g.value === m.value));
  const keptPositions = kept.map((m) => position.get(m.key)!);
  if (keptPositions.some((p, i) => i > 0 && p < keptPositions[i - 1]!)) problems.push(`the caller's tracestate members changed order: sent ${show(want)}, received ${show(got)}`);
  const firstKept = Math.min(...keptPositions);
  const modifiedNotLeft = want.filter((m) => position.has(m.key) && !kept.includes(m) && position.get(m.key)! > firstKept);
  if (modifiedNotLeft.length > 0) {
    problems.push(`tracestate members ${modifiedNotLeft.map((m) => m.key).join(", ")} were modified but not moved to the left (W3C: they MUST be)`);
  }
  return problems;
}

/** baggage list-members as "key=value;props", optional whitespace removed (W3C Baggage: it MUST be trimmed). */
export function parseBaggage(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(",")
    .map((member) =>
      member
        .split(";")
        .map((part) => part.split("=").map((side) => side.trim()).join("="))
        .join(";"),
    )
    .filter((member) => member !== "");
}

/** Problems of the baggage the primary received: every member the caller sent must arrive; others may be added. */
export function baggageProblems(sent: string, received: string | undefined): string[] {
  const got = new Set(parseBaggage(received));
  const lost = parseBaggage(sent).filter((member) => !got.has(member));
  if (lost.length === 0) return [];
  return [received === undefined ? "baggage missing from what the primary echoed" : `baggage members ${lost.map((m) => JSON.stringify(m)).join(", ")} missing from what the primary echoed (${JSON.stringify(received)})`];
}
