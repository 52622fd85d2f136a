// Logs SIGTERM and keeps running (and forwarding) until it is killed.
export default {
  name: "ignore-sigterm",
  breaks: "lifecycle.sigterm-honoured",
  sigterm: () => "ignore",
};
