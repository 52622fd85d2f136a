// Traces with its own sampler at 0%, ignoring the caller's decision: a new parent-id and
// its own tracestate entry (as a tracing proxy may), but the sampled flag cleared — the
// primary is told not to record requests its caller recorded.
import { formatTraceparent, headerOf, parseTraceparent, randomId, setHeader, withOwnEntry } from "../trace-context.mjs";

export default {
  name: "unsample-trace",
  breaks: "proxy.headers-pass-through",
  requestHeaders(pairs) {
    const incoming = parseTraceparent(headerOf(pairs, "traceparent"));
    if (!incoming) return undefined;
    const parentId = randomId(8);
    const flags = (Number.parseInt(incoming.flags, 16) & ~1).toString(16).padStart(2, "0");
    const traced = setHeader(pairs, "traceparent", formatTraceparent({ ...incoming, parentId, flags }));
    return setHeader(traced, "tracestate", withOwnEntry(headerOf(pairs, "tracestate"), parentId));
  },
};
