// large-bodies' spread of its tries, without pods: over the suite's 44 tries every framing
// meets every delivery and every size, so a fault confined to one combination is tried.
import { describe, expect, it } from "vitest";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import { planTries, plannedTries } from "../support/try-plan.ts";
import { FRAMINGS, TENSOR_SIZES, shapeOf } from "./large-bodies.ts";

describe("large-bodies' tries", () => {
  const tries = plannedTries(planTries({ cases: 1, triesPerCase: DEFAULT_SUITE_CONFIG.triesPerExpectation, seed: 1, concurrency: 2 }));
  const shaped = tries.map((t) => ({ ...shapeOf(t.attempt), delivery: t.delivery }));

  it("are all at least 16 MiB", () => {
    for (const { tensorBytes } of shaped) expect(tensorBytes).toBeGreaterThanOrEqual(16 * 1024 * 1024);
  });

  it("cross every framing with every delivery and every size", () => {
    const seen = (key: (s: (typeof shaped)[number]) => string) => new Set(shaped.map(key));
    expect(seen((s) => `${s.framing} ${s.delivery}`).size).toBe(FRAMINGS.length * 3);
    expect(seen((s) => `${s.framing} ${s.tensorBytes}`).size).toBe(FRAMINGS.length * TENSOR_SIZES.length);
  });

  it("send chunked request bodies on half the tries and chunked answers on half", () => {
    expect(shaped.filter((s) => s.framing.startsWith("chunked")).length).toBeGreaterThanOrEqual(20);
    expect(shaped.filter((s) => s.framing.endsWith("echo")).length).toBeGreaterThanOrEqual(20);
  });
});
