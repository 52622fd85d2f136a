import { describe, expect, it } from "vitest";
import { KnownValues, isStrictMode, modeLoosened, sha256Hex } from "./primary-secret.ts";

describe("isStrictMode", () => {
  it("accepts owner read-only and stricter", () => {
    expect(isStrictMode("0400")).toBe(true);
    expect(isStrictMode("400")).toBe(true);
    expect(isStrictMode("0000")).toBe(true);
  });

  it("rejects any bit beyond the owner's read", () => {
    for (const mode of ["0600", "0440", "0404", "0644", "0444", "0500", "4400", "1400", null, "rw-------"]) {
      expect(isStrictMode(mode), String(mode)).toBe(false);
    }
  });
});

describe("modeLoosened", () => {
  it("is true only when the later mode grants a bit the earlier did not", () => {
    expect(modeLoosened("0400", "0644")).toBe(true);
    expect(modeLoosened("0400", "0400")).toBe(false);
    expect(modeLoosened("0644", "0400")).toBe(false);
    expect(modeLoosened("0644", "0644")).toBe(false);
    expect(modeLoosened(null, "0644")).toBe(false);
  });
});

describe("KnownValues", () => {
  it("names known values and describes states without showing a value", () => {
    const known = new KnownValues();
    const sha = known.add("rotation 1", "s3cret-value");
    expect(sha).toBe(sha256Hex("s3cret-value"));
    expect(known.describe({ exists: true, mode: "0400", sha256: sha })).toBe("rotation 1, mode 0400");
    expect(known.describe({ exists: false, mode: null, sha256: null })).toBe("absent");
    expect(known.describe({ exists: true, mode: "0000", sha256: null })).toBe("no readable value, mode 0000");
    expect(known.name(sha256Hex("other"))).toMatch(/^an unknown value \(sha256 [0-9a-f]{12}…\)$/);
  });
});
