// Logs SIGTERM and keeps running (and forwarding) until it is killed — or, with
// --delay-ms, exits that long after SIGTERM, so boundary fixtures can exit just inside or
// just past a grace period.
export default {
  name: "ignore-sigterm",
  breaks: "lifecycle.sigterm-honoured",
  sigterm(ctx) {
    const { delayMs } = ctx.options;
    if (delayMs !== undefined && !ctx.exitScheduled) {
      ctx.exitScheduled = true;
      setTimeout(() => {
        ctx.log("exiting", { code: 0, reason: `${delayMs} ms after SIGTERM` });
        process.exit(0);
      }, delayMs);
    }
    return "ignore";
  },
};
