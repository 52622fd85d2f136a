// Watches the upstream (a TCP connect every 100 ms) and exits 0 as soon as it stops
// accepting connections — which the primary does the moment it begins to drain — cutting
// the requests still in flight instead of forwarding until the primary has finished.
import { connect } from "node:net";

export const POLL_MS = 100;

export default {
  name: "quits-early",
  breaks: "lifecycle.drains-in-order",
  listening(ctx) {
    let seenUp = false;
    const poll = () => {
      const socket = connect({ host: "127.0.0.1", port: ctx.options.upstream });
      socket.setTimeout(1_000, () => socket.destroy());
      socket.once("connect", () => {
        seenUp = true;
        socket.destroy();
      });
      socket.once("error", (error) => {
        // Only a refusal after the upstream was seen up means it is going away (not: still starting).
        if (seenUp && error.code === "ECONNREFUSED") {
          ctx.log("upstream-gone", { inFlight: ctx.stats.inFlight });
          ctx.log("exiting", { code: 0, reason: "upstream stopped accepting", inFlight: ctx.stats.inFlight });
          process.exit(0);
        }
      });
    };
    setInterval(poll, POLL_MS).unref();
  },
};
