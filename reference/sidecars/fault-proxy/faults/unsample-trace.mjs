// Applies its own sampling to the traceparent it passes through without tracing itself:
// the sampled flag cleared, the caller's parent-id kept. W3C Trace Context lets only a
// component that records its own span (a new parent-id) update the flag; this one tells
// the primary that the caller did not record a request it did.
import { formatTraceparent, headerOf, parseTraceparent, setHeader } from "../trace-context.mjs";

export default {
  name: "unsample-trace",
  breaks: "proxy.headers-pass-through",
  requestHeaders(pairs) {
    const incoming = parseTraceparent(headerOf(pairs, "traceparent"));
    if (!incoming) return undefined;
    const flags = (Number.parseInt(incoming.flags, 16) & ~1).toString(16).padStart(2, "0");
    return setHeader(pairs, "traceparent", formatTraceparent({ ...incoming, flags }));
  },
};
