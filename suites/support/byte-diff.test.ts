import { describe, expect, it } from "vitest";
import { firstDifference, formatDifference } from "./byte-diff.ts";

describe("firstDifference", () => {
  it("is null for identical bodies, also empty ones", () => {
    expect(firstDifference(Buffer.from("abc"), Buffer.from("abc"))).toBeNull();
    expect(firstDifference(Buffer.alloc(0), Buffer.alloc(0))).toBeNull();
  });

  it("finds a changed byte past the first 64 KiB slice and marks it in hex and text", () => {
    const expected = Buffer.alloc(200_000, 0x61);
    const actual = Buffer.from(expected);
    actual[150_001] = 0x62;
    const diff = firstDifference(expected, actual, 4);
    expect(diff).toMatchObject({ offset: 150_001, expectedLength: 200_000, actualLength: 200_000, contextStart: 149_997 });
    expect(diff?.expectedHex).toBe("61 61 61 61 [61] 61 61 61 61");
    expect(diff?.actualHex).toBe("61 61 61 61 [62] 61 61 61 61");
    expect(diff?.actualText).toBe("aaaabaaaa");
  });

  it("reports a truncated body at the shorter length", () => {
    const diff = firstDifference(Buffer.from("0123456789"), Buffer.from("01234"), 2);
    expect(diff).toMatchObject({ offset: 5, expectedLength: 10, actualLength: 5 });
    expect(diff?.actualHex).toBe("33 34 [end]");
    expect(formatDifference(diff!)).toContain("first difference at byte 5 (expected 10 bytes, got 5)");
  });
});
