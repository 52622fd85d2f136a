// `load: {mode: vegeta}` is an open loop sent by another generator: the experiment plans,
// interleaves and analyses it exactly as `mode: open` with constant arrivals (slots,
// A/A floor, pacing error, minRequests); only the driver that sends the rounds differs.
import type { LoadModel } from "../../scenario/index.ts";

export type MeasuredLoad = Exclude<LoadModel, { mode: "vegeta" }>;

export function measuredLoad(load: LoadModel): MeasuredLoad {
  if (load.mode !== "vegeta") return load;
  return { mode: "open", arrival: "constant", ratePerSec: load.ratePerSec, maxConnections: load.maxConnections, timeoutMs: load.timeoutMs };
}
