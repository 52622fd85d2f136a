import { IN_PROCESS_DRIVER } from "./harness/load/open-loop-driver.ts";
import { startTestServer } from "./harness/load/fixtures/test-server.ts";
import { buildInferRequest } from "./harness/load/kserve-request.ts";
const s = await startTestServer();
const request = buildInferRequest({ model: "m", format: "json", inputs: [{ name: "x", datatype: "FP32", shape: [1, 8] }] }, 1);
await IN_PROCESS_DRIVER.run({ targets: [{ url: s.url, request }], slotMs: 100, slotOrder: [0], ratePerSec: 100, arrival: "constant", seed: 1, maxRequests: 100, timeoutMs: 1000, maxConnections: 2 });
await s.close();
await IN_PROCESS_DRIVER.close();
console.log("closed");
