// The docker pod's pause process: it holds the pod's network namespace and makes the
// pod's ports reachable from the host. Containers bind 127.0.0.1 (as on the local
// runtime), which Docker's published ports cannot reach (they forward to the pod's
// bridge address), so for each port P this listens on the pod's non-loopback addresses
// at P and pipes every connection to 127.0.0.1:P. Usage: node pod-forwarder.mjs P...
// Plain Node with no dependencies: it runs inside the node-sidecars image.
import { connect, createServer } from "node:net";
import { networkInterfaces } from "node:os";

const ports = process.argv.slice(2).map(Number);
const addresses = Object.values(networkInterfaces())
  .flat()
  .filter((entry) => entry && entry.family === "IPv4" && !entry.internal)
  .map((entry) => entry.address);

function forward(client, port) {
  const upstream = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  client.pipe(upstream);
  upstream.pipe(client);
  // A refused or reset upstream resets the client too, as a direct connection would.
  upstream.on("error", () => client.resetAndDestroy());
  client.on("error", () => upstream.destroy());
}

let listening = 0;
for (const address of addresses) {
  for (const port of ports) {
    const server = createServer({ allowHalfOpen: true }, (client) => forward(client, port));
    server.on("error", (error) => {
      process.stderr.write(`pod-forwarder: ${address}:${port}: ${error.message}\n`);
      process.exit(1);
    });
    server.listen(port, address, () => {
      if (++listening === addresses.length * ports.length) {
        process.stdout.write(`pod-forwarder: forwarding ${ports.join(", ")} on ${addresses.join(", ")}\n`);
      }
    });
  }
}
if (ports.length === 0) process.stdout.write("pod-forwarder: forwarding no ports\n");
// PID 1 of the pause container: without handlers, SIGTERM would be ignored.
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
setInterval(() => undefined, 1 << 30);
