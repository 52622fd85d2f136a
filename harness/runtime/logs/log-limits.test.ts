import { describe, expect, it } from "vitest";
import { UsageError } from "../../cli/usage-error.ts";
import { CONTAINER_LOG_MAX_SIZE } from "../../cluster/cluster-configs.ts";
import { CONTAINER_LOG_MAX_ENV, DEFAULT_CONTAINER_LOG_MAX_BYTES, containerLogMaxBytes } from "./log-limits.ts";

describe("container log limits", () => {
  it("defaults to the kubelet's containerLogMaxSize, 10Mi, as the project's cluster sets it", () => {
    expect(containerLogMaxBytes({})).toBe(10 * 1024 * 1024);
    expect(CONTAINER_LOG_MAX_SIZE).toBe(`${DEFAULT_CONTAINER_LOG_MAX_BYTES / (1024 * 1024)}Mi`);
  });

  it(`reads ${CONTAINER_LOG_MAX_ENV} in MiB, fractions allowed`, () => {
    expect(containerLogMaxBytes({ [CONTAINER_LOG_MAX_ENV]: "50" })).toBe(50 * 1024 * 1024);
    expect(containerLogMaxBytes({ [CONTAINER_LOG_MAX_ENV]: "0.25" })).toBe(256 * 1024);
  });

  it("rejects a malformed or tiny cap as invalid input, naming the variable", () => {
    for (const value of ["ten", "-1", "0.01", "Infinity"]) {
      expect(() => containerLogMaxBytes({ [CONTAINER_LOG_MAX_ENV]: value })).toThrow(UsageError);
      expect(() => containerLogMaxBytes({ [CONTAINER_LOG_MAX_ENV]: value })).toThrow(`${CONTAINER_LOG_MAX_ENV}: expected a size in MiB ≥ 0.0625 (e.g. 10), found "${value}"`);
    }
  });
});
