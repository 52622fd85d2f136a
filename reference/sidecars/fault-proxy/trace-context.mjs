// W3C Trace Context as a tracing proxy writes it: parse the incoming traceparent, start
// its own span (a new parent-id), put its own tracestate entry first. Shared by the
// legitimate tracing behaviour (tracing.mjs) and the faults that trace wrongly.
import { randomBytes } from "node:crypto";

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const MAX_TRACESTATE_MEMBERS = 32;

/** The proxy's own tracestate key. */
export const OWN_KEY = "sbproxy";

/** 8 or 16 random bytes as lower-case hex, never all zeros. */
export function randomId(bytes) {
  for (;;) {
    const id = randomBytes(bytes).toString("hex");
    if (!/^0+$/.test(id)) return id;
  }
}

/** { traceId, parentId, flags } of a valid version-00 traceparent, else null. */
export function parseTraceparent(value) {
  const match = typeof value === "string" ? TRACEPARENT.exec(value.trim()) : null;
  if (!match || /^0+$/.test(match[1]) || /^0+$/.test(match[2])) return null;
  return { traceId: match[1], parentId: match[2], flags: match[3] };
}

export function formatTraceparent({ traceId, parentId, flags }) {
  return `00-${traceId}-${parentId}-${flags}`;
}

/** The list with the proxy's entry first (moved there if it was present), at most 32 members. */
export function withOwnEntry(tracestate, value) {
  const members = (tracestate ?? "")
    .split(",")
    .map((member) => member.trim())
    .filter((member) => member !== "" && !member.startsWith(`${OWN_KEY}=`));
  return [`${OWN_KEY}=${value}`, ...members].slice(0, MAX_TRACESTATE_MEMBERS).join(",");
}

/** [name, value] pairs with `name` set to `value` (any earlier lines of it removed). */
export function setHeader(pairs, name, value) {
  const kept = pairs.filter(([key]) => key.toLowerCase() !== name);
  return value === undefined ? kept : [...kept, [name, value]];
}

export const headerOf = (pairs, name) => pairs.find(([key]) => key.toLowerCase() === name)?.[1];
