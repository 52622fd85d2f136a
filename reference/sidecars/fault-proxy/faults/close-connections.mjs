// Answers every request with "Connection: close" and closes the client connection after
// it: each request pays a new TCP handshake (and leaves a TIME_WAIT socket).
export default {
  name: "close-connections",
  breaks: "proxy.keep-alive-reuse",
  response: ({ headers }) => ({ headers: [...headers, ["Connection", "close"]] }),
};
