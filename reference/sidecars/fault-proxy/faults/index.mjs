// The registry of faults, explicit (no discovery by file name). Each fault breaks exactly
// one conformance rule: `breaks` is the id of the conformance test that must fail on it.
// Hooks a fault may define (all optional; fault-proxy.mjs calls them):
//   startup(ctx, plan)               before binding: plan.adminDelayMs / plan.listenDelayMs, ctx.holdUntilMs
//   setup(ctx)                       before binding, after startup (allocations)
//   configureServer(server, ctx)     the client-facing http.Server
//   listening(ctx)                   once both ports are bound
//   ready(ctx, ready) → boolean      what GET /ready reports (ready = the proxy's own view)
//   request(req, res, ctx)           each request, just before it is forwarded (side effects)
//   requestHeaders(pairs, req, ctx)  → [name, value][] sent upstream
//   requestBody(req, pairs, ctx)     → a Transform for the request body, or undefined (may edit pairs)
//   response({req, status, headers, upstreamRes}, ctx)
//                                    → undefined or {status?, headers?, body? (replaces it),
//                                      rewrite?(whole body) → body, transform? (streamed)}
//   sigterm(ctx) → "ignore" | "exit" keep running on SIGTERM, or exit at once without draining
// `restartAware: true` makes the proxy record its start (restart-marker.mjs) and log it.
import bufferStream from "./buffer-stream.mjs";
import closeConnections from "./close-connections.mjs";
import connectionLimit from "./connection-limit.mjs";
import corruptBinary from "./corrupt-binary.mjs";
import cpuBurner from "./cpu-burner.mjs";
import dropHeader from "./drop-header.mjs";
import earlyAdmin from "./early-admin.mjs";
import exitOnSigterm from "./exit-on-sigterm.mjs";
import fatIdle from "./fat-idle.mjs";
import hangWhenDown from "./hang-when-down.mjs";
import ignoreSigterm from "./ignore-sigterm.mjs";
import leaky from "./leaky.mjs";
import maskErrors from "./mask-errors.mjs";
import quitsEarly from "./quits-early.mjs";
import readyLate from "./ready-late.mjs";
import restartTrace from "./restart-trace.mjs";
import rewriteJson from "./rewrite-json.mjs";
import slowRestart from "./slow-restart.mjs";
import slowStart from "./slow-start.mjs";
import truncateLarge from "./truncate-large.mjs";
import unsampleTrace from "./unsample-trace.mjs";

const ALL = [
  dropHeader,
  restartTrace,
  unsampleTrace,
  rewriteJson,
  corruptBinary,
  truncateLarge,
  bufferStream,
  maskErrors,
  connectionLimit,
  closeConnections,
  readyLate,
  earlyAdmin,
  slowStart,
  slowRestart,
  hangWhenDown,
  quitsEarly,
  ignoreSigterm,
  exitOnSigterm,
  fatIdle,
  cpuBurner,
  leaky,
];

export const FAULTS = Object.freeze(Object.fromEntries(ALL.map((fault) => [fault.name, fault])));

export function faultNames() {
  return ALL.map((fault) => fault.name);
}
