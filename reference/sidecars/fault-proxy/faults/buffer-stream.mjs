// Buffers every response and sends it whole once the upstream has finished, token
// streams (text/event-stream) included: bytes stay identical, timing does not.
export default {
  name: "buffer-stream",
  breaks: "proxy.streaming-not-buffered",
  response: () => ({ rewrite: (body) => body }),
};
