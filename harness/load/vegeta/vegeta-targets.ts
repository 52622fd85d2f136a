// One round as vegeta sends it: a target list in schedule order, and the -rate and
// -duration that make vegeta send exactly that list once.
//
// vegeta's constant pacer (lib/pacer.go, v12.13.0) waits (hits + 1) × interval after the
// attack begins before hit number `hits`, interval = Per / Freq in whole nanoseconds; its
// static targeter hands out the targets round-robin in file order. So request k (vegeta's
// seq k) is due at began + (k + 1) × interval. We anchor the round at the first one: request
// k's scheduled offset is k × interval, and it goes to the arm whose slot covers that
// offset — the same schedule as the harness's own constant arrivals.
//
// The list ends the attack: read lazily (-lazy), the targets run out after request N − 1,
// and vegeta stops at the next hit (lib/attack.go: a targeter error stops the attack; that
// hit records an error result without a URL and sends nothing). -duration only bounds a
// generator that falls behind: N × interval + one request timeout, so, as in the
// harness's loop, what it had not sent by then counts as unsent.

export interface VegetaTarget {
  /** Base URL (origin) of the arm. */
  url: string;
  request: { path: string; method: "GET" | "POST"; headers: Record<string, string>; body: Buffer };
}

export interface VegetaRoundInput {
  targets: VegetaTarget[];
  ratePerSec: number;
  slotMs: number;
  slotOrder: number[];
  maxRequests: number;
  timeoutMs: number;
}

export interface VegetaRoundPlan {
  /** vegeta's -rate: integer hits per duration. */
  rateFlag: string;
  /** Gap between scheduled sends, as vegeta computes it (whole ns). */
  intervalNs: number;
  /** vegeta's -duration: a bound only (see above). */
  durationFlag: string;
  /** Requests in the round, N. */
  requestCount: number;
  /** Arm (index into targets) of request k. */
  armOf: number[];
  /** The schedule part that was planned: the whole round, or up to maxRequests. */
  sendWindowMs: number;
  stoppedBy: "duration" | "maxRequests";
  /** The body every target shares (vegeta's -body), or null when they differ and each line carries its own. */
  sharedBody: Buffer | null;
  /** vegeta's JSON target format, one line per request, request k on line k; vegeta sends them once, in order. */
  targetLines: string[];
}

/**
 * The fragment tags each URL with its arm: vegeta reports every result's URL, fragments
 * are never sent on the wire, and two arms may share one URL (the baseline and its A/A twin).
 */
export const ARM_FRAGMENT = "sb-arm-";

/**
 * `ratePerSec` as vegeta's Freq/Per: whole numbers per second as they are, anything else
 * to a thousandth of a request per second (Freq must be an integer).
 */
export function vegetaRate(ratePerSec: number): { flag: string; intervalNs: number } {
  if (!(ratePerSec > 0) || !Number.isFinite(ratePerSec)) throw new Error(`vegeta: ratePerSec must be a positive number, got ${ratePerSec}`);
  const [freq, perSec] = Number.isInteger(ratePerSec) ? [ratePerSec, 1] : [Math.round(ratePerSec * 1000), 1000];
  if (freq < 1) throw new Error(`vegeta: ratePerSec ${ratePerSec} is below vegeta's resolution here (0.001 req/s)`);
  const intervalNs = Math.floor((perSec * 1e9) / freq);
  if (intervalNs < 1) throw new Error(`vegeta: ratePerSec ${ratePerSec} exceeds one request per nanosecond`);
  return { flag: `${freq}/${perSec}s`, intervalNs };
}

export function planVegetaRound(input: VegetaRoundInput): VegetaRoundPlan {
  const { targets, slotMs, slotOrder } = input;
  if (targets.length === 0) throw new Error("vegeta: at least one target is needed");
  if (!(slotMs > 0)) throw new Error(`vegeta: slotMs must be positive, got ${slotMs}`);
  if (slotOrder.length === 0 || slotOrder.some((t) => !Number.isInteger(t) || t < 0 || t >= targets.length)) {
    throw new Error(`vegeta: slotOrder must be a non-empty list of target indices 0..${targets.length - 1}`);
  }
  if (!Number.isSafeInteger(input.maxRequests) || input.maxRequests < 1) throw new Error(`vegeta: maxRequests must be an integer ≥ 1, got ${input.maxRequests}`);
  const { flag: rateFlag, intervalNs } = vegetaRate(input.ratePerSec);
  const roundNs = slotMs * slotOrder.length * 1e6;
  // Offsets k × interval < round length, as the harness's schedule: [0, durationMs).
  const scheduled = Math.ceil(roundNs / intervalNs);
  const requestCount = Math.min(scheduled, input.maxRequests);
  const stoppedBy = requestCount < scheduled ? "maxRequests" : "duration";
  const armOf = Array.from({ length: requestCount }, (_, k) => slotOrder[Math.min(Math.floor((k * intervalNs) / (slotMs * 1e6)), slotOrder.length - 1)]!);
  const firstBody = targets[0]!.request.body;
  const sharedBody = targets.every((t) => t.request.body.equals(firstBody)) ? firstBody : null;
  // One line per arm, repeated: only the fragment and arm differ between arms.
  const lineOfArm = targets.map((target, arm) =>
    JSON.stringify({
      method: target.request.method,
      url: `${new URL(target.request.path, target.url).href}#${ARM_FRAGMENT}${arm}`,
      header: Object.fromEntries(Object.entries(target.request.headers).map(([name, value]) => [name, [value]])),
      ...(sharedBody === null && target.request.body.length > 0 ? { body: target.request.body.toString("base64") } : {}),
    }),
  );
  return {
    rateFlag,
    intervalNs,
    durationFlag: `${Math.round(requestCount * intervalNs + input.timeoutMs * 1e6)}ns`,
    requestCount,
    armOf,
    sendWindowMs: stoppedBy === "duration" ? roundNs / 1e6 : (requestCount * intervalNs) / 1e6,
    stoppedBy,
    sharedBody: sharedBody !== null && sharedBody.length > 0 ? sharedBody : null,
    targetLines: armOf.map((arm) => lineOfArm[arm]!),
  };
}

/** The arm a result's URL was tagged with (see ARM_FRAGMENT), or null for a URL we did not plan. */
export function armOfUrl(url: string, armCount: number): number | null {
  const at = url.lastIndexOf(`#${ARM_FRAGMENT}`);
  if (at < 0) return null;
  const arm = Number(url.slice(at + ARM_FRAGMENT.length + 1));
  return Number.isInteger(arm) && arm >= 0 && arm < armCount ? arm : null;
}
