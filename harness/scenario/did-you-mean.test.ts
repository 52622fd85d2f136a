import { describe, expect, it } from "vitest";
import { closestMatch, didYouMean, editDistance } from "./did-you-mean.ts";

describe("did you mean", () => {
  it("measures edits, counting a transposition as one", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("porst", "ports")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
  });

  it("suggests close words, prefixes and case slips, and nothing for unrelated words", () => {
    const keys = ["ratePerSec", "maxConnections", "timeoutMs", "arrival"];
    expect(closestMatch("ratePerSecond", keys)).toBe("ratePerSec");
    expect(closestMatch("timeoutms", keys)).toBe("timeoutMs");
    expect(closestMatch("arival", keys)).toBe("arrival");
    expect(closestMatch("colour", keys)).toBeUndefined();
    expect(closestMatch("x", [])).toBeUndefined();
    expect(didYouMean("admn", ["ingress", "admin"])).toBe(' (did you mean "admin"?)');
    expect(didYouMean("zzz", ["ingress", "admin"])).toBe("");
  });
});
