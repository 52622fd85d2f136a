// Restarts every trace: the primary gets a new trace-id (new parent-id, same flags) and no
// tracestate, as a proxy set up as a trust boundary does — W3C's "restart trace" is for
// the front gate of a secure network; a sidecar doing it cuts each trace at the pod.
import { formatTraceparent, headerOf, parseTraceparent, randomId, setHeader } from "../trace-context.mjs";

export default {
  name: "restart-trace",
  breaks: "proxy.headers-pass-through",
  requestHeaders(pairs) {
    const incoming = parseTraceparent(headerOf(pairs, "traceparent"));
    if (!incoming) return undefined;
    const restarted = setHeader(pairs, "traceparent", formatTraceparent({ traceId: randomId(16), parentId: randomId(8), flags: incoming.flags }));
    return setHeader(restarted, "tracestate", undefined);
  },
};
