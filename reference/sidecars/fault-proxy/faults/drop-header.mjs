// Loses trace context: drops the `traceparent` request header, and response headers
// starting with `x-echo-trace` (what the primary's echo endpoint mirrors it as).
const isTraceEcho = (name) => name.toLowerCase().startsWith("x-echo-trace");

export default {
  name: "drop-header",
  breaks: "proxy.headers-pass-through",
  requestHeaders: (pairs) => pairs.filter(([name]) => name.toLowerCase() !== "traceparent"),
  response: ({ headers }) => ({ headers: headers.filter(([name]) => !isTraceEcho(name)) }),
};
