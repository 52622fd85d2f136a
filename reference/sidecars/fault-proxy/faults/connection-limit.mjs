// Accepts at most 8 concurrent client connections on the listen port; further ones are
// closed at once (node's server.maxConnections), as a proxy with a tiny worker pool would.
export const MAX_CONNECTIONS = 8;

export default {
  name: "connection-limit",
  breaks: "proxy.concurrent-keep-alive",
  configureServer(server, ctx) {
    server.maxConnections = MAX_CONNECTIONS;
    let dropped = 0;
    server.on("drop", () => {
      if (++dropped === 1) ctx.log("connection-dropped", { maxConnections: MAX_CONNECTIONS });
    });
  },
};
