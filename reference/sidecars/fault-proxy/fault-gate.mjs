// Faults on some requests only: the fixtures that prove a check's detection power.
//   --fault-every <n>   the faults act on exactly one in every n requests they would act
//                       on (a random phase, logged at start): 1 in 10 is a fault on 10%
//                       of requests, and a check with ≥ 10 such tries must catch it;
//   --fault-when <condition>
//                       only on requests that meet the condition: fresh-connection (the
//                       first request of a client connection), chunked-request (a request
//                       body without Content-Length), status-5xx (an upstream 5xx answer);
//                       or only in the container's first start in a pod: first-start
//                       (restarts are honest, restart-marker.mjs tells them apart); or
//                       only after a restart: restart (the first start is honest).
// The gate wraps the request-path hooks (requestHeaders, requestBody, response); a
// request counts when a hook would change something, and once decided, the decision
// holds for every hook of that request. Of the other hooks, startup and ready follow
// first-start and restart; the rest (sigterm, …) are not gated.
import { randomInt } from "node:crypto";

export const CONDITIONS = Object.freeze({
  "fresh-connection": (req, _status, gate) => gate.isFirstOnConnection(req),
  "chunked-request": (req) => req.headers["content-length"] === undefined && req.headers["transfer-encoding"] !== undefined,
  "status-5xx": (_req, status) => status !== undefined && status >= 500 && status <= 599,
  "first-start": (_req, _status, _gate, ctx) => !ctx.isRestart(),
  restart: (_req, _status, _gate, ctx) => ctx.isRestart(),
});

const samePairs = (a, b) => a.length === b.length && a.every(([name, value], i) => name === b[i][0] && value === b[i][1]);

export function createGate({ every = 1, when, phase: fixedPhase }) {
  if (!Number.isInteger(every) || every < 1) throw new Error(`--fault-every: expected a whole number ≥ 1, got ${every}`);
  const phase = fixedPhase ?? randomInt(every);
  const condition = when === undefined ? undefined : CONDITIONS[when];
  if (when !== undefined && !condition) throw new Error(`--fault-when: unknown condition ${JSON.stringify(when)}; expected one of ${Object.keys(CONDITIONS).join(", ")}`);
  const decided = new WeakMap();
  const firstRequest = new WeakMap();
  let occurrences = 0;
  const gate = {
    every,
    phase,
    when,
    isFirstOnConnection: (req) => firstRequest.get(req.socket) === req,
    /** Called for every request as it arrives (the gate's own request hook). */
    note(req) {
      if (!firstRequest.has(req.socket)) firstRequest.set(req.socket, req);
    },
    /** Whether the faults act in this start of the container at all (first-start: not in a restart; restart: not in the first start). */
    activeInThisStart: (ctx) => (when === "first-start" ? !ctx.isRestart() : when === "restart" ? ctx.isRestart() : true),
    /** Whether a change the faults would make to this request is made. */
    applies(req, status, ctx) {
      const known = decided.get(req);
      if (known !== undefined) return known;
      // A condition on the upstream status is undecided before the response: not yet counted.
      if (condition && !condition(req, status, gate, ctx)) return false;
      const on = occurrences++ % every === phase;
      decided.set(req, on);
      return on;
    },
  };
  return gate;
}

/** The fault with its request-path hooks acting only where the gate says. */
export function gatedFault(fault, gate) {
  const gated = { ...fault };
  if (fault.requestHeaders) {
    gated.requestHeaders = (pairs, req, ctx) => {
      const changed = fault.requestHeaders(pairs, req, ctx);
      if (changed === undefined || samePairs(changed, pairs)) return undefined;
      return gate.applies(req, undefined, ctx) ? changed : undefined;
    };
  }
  if (fault.requestBody) {
    gated.requestBody = (req, pairs, ctx) => {
      const copy = pairs.map((pair) => [...pair]);
      const transform = fault.requestBody(req, copy, ctx);
      if (transform === undefined && samePairs(copy, pairs)) return undefined;
      if (!gate.applies(req, undefined, ctx)) {
        transform?.destroy();
        return undefined;
      }
      pairs.splice(0, pairs.length, ...copy);
      return transform;
    };
  }
  if (fault.response) {
    gated.response = (args, ctx) => {
      const change = fault.response(args, ctx);
      if (!change) return undefined;
      // A rewrite counts even where it would leave the bytes as they are: buffering it
      // (buffer-stream) is a change of its own, and the gate must decide before it starts.
      const changes =
        (change.status !== undefined && change.status !== args.status) ||
        (change.headers !== undefined && !samePairs(change.headers, args.headers)) ||
        change.body !== undefined ||
        change.rewrite !== undefined ||
        change.transform !== undefined;
      return changes && gate.applies(args.req, args.status, ctx) ? change : undefined;
    };
  }
  if (fault.startup) gated.startup = (ctx, plan) => (gate.activeInThisStart(ctx) ? fault.startup(ctx, plan) : undefined);
  if (fault.ready) gated.ready = (ctx, ready) => (gate.activeInThisStart(ctx) ? fault.ready(ctx, ready) : ready);
  // The start is told apart at once, so the marker of a first start is written before any restart.
  if (gate.when === "first-start" || gate.when === "restart") gated.restartAware = true;
  return gated;
}

/** The gate's own hook, first in the list: it sees every request as it arrives. */
export function gateObserver(gate) {
  return { name: "fault-gate", request: (req) => gate.note(req) };
}
