// --tracing: what a tracing proxy (Envoy or Linkerd with tracing on) legitimately does to
// the traffic it forwards — not a fault; a fixture with it must pass every check:
// - traceparent: the caller's trace-id and flags with a new parent-id (its own span);
//   without a valid incoming one, a new sampled trace;
// - tracestate: its own entry first (W3C: a vendor's updated entry moves to the left);
// - Via on requests and responses, X-Forwarded-For / X-Forwarded-Proto / Forwarded on
//   requests (RFC 9110 §7.6.3, RFC 7239);
// - framing: bodies go on chunked both ways (Content-Length dropped, RFC 9112 allows
//   either), and its own Server header.
import { OWN_KEY, formatTraceparent, headerOf, parseTraceparent, randomId, setHeader, withOwnEntry } from "./trace-context.mjs";

const VIA = "1.1 sidecar-bench-tracing";

function append(pairs, name, value) {
  const before = headerOf(pairs, name);
  return setHeader(pairs, name, before === undefined ? value : `${before}, ${value}`);
}

export const TRACING = Object.freeze({
  name: "tracing",
  requestHeaders(pairs, req) {
    const incoming = parseTraceparent(headerOf(pairs, "traceparent"));
    const parentId = randomId(8);
    const traceparent = incoming ? { ...incoming, parentId } : { traceId: randomId(16), parentId, flags: "01" };
    let out = setHeader(pairs, "traceparent", formatTraceparent(traceparent));
    out = setHeader(out, "tracestate", withOwnEntry(incoming ? headerOf(pairs, "tracestate") : undefined, parentId));
    const client = req.socket.remoteAddress ?? "unknown";
    out = append(out, "via", VIA);
    out = append(out, "x-forwarded-for", client);
    out = setHeader(out, "x-forwarded-proto", "http");
    out = append(out, "forwarded", `for=${client.includes(":") ? `"[${client}]"` : client};proto=http`);
    return setHeader(out, "content-length", undefined);
  },
  response({ headers }) {
    let out = append(headers, "via", VIA);
    out = setHeader(out, "server", `sidecar-bench-tracing (${OWN_KEY})`);
    return { headers: setHeader(out, "content-length", undefined) };
  },
});
