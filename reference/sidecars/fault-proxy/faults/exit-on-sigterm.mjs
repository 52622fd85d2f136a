// Exits the moment it gets SIGTERM, cutting the requests it is forwarding (claims
// graceful-drain all the same, as every fixture does).
export default {
  name: "exit-on-sigterm",
  breaks: "lifecycle.drains-on-sigterm",
  sigterm: () => "exit",
};
