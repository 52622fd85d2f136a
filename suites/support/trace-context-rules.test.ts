import { describe, expect, it } from "vitest";
import { baggageProblems, parseTraceparent, parseTracestate, sampledCleared, traceparentProblems, tracestateProblems } from "./trace-context-rules.ts";

// The W3C Trace Context examples: a Congo client, then a Rojo server, then Congo again.
const CONGO_PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const ROJO_PARENT = "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01";

describe("traceparent", () => {
  it("parses the W3C examples and rejects malformed values", () => {
    expect(parseTraceparent(CONGO_PARENT)).toEqual({ version: "00", traceId: "0af7651916cd43dd8448eb211c80319c", parentId: "b7ad6b7169203331", flags: 1 });
    for (const bad of [
      "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", // upper case
      "00-00000000000000000000000000000000-b7ad6b7169203331-01", // all-zero trace-id
      "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", // all-zero parent-id
      "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // forbidden version
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01", // short parent-id
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
    ]) {
      expect(parseTraceparent(bad), bad).toBeNull();
    }
  });

  it("allows forwarding unchanged and a new parent-id (the typical mutation)", () => {
    expect(traceparentProblems(CONGO_PARENT, CONGO_PARENT)).toEqual([]);
    expect(traceparentProblems(CONGO_PARENT, ROJO_PARENT)).toEqual([]);
  });

  it("allows the sampled flag updated with a new parent-id, either way (W3C \"Update sampled\"), never without one", () => {
    const unsampled = CONGO_PARENT.replace(/-01$/, "-00");
    expect(traceparentProblems(unsampled, ROJO_PARENT)).toEqual([]);
    expect(traceparentProblems(CONGO_PARENT, ROJO_PARENT.replace(/-01$/, "-00"))).toEqual([]);
    expect(sampledCleared(CONGO_PARENT, ROJO_PARENT.replace(/-01$/, "-00"))).toBe(true);
    expect(sampledCleared(unsampled, ROJO_PARENT)).toBe(false);
    expect(traceparentProblems(unsampled, CONGO_PARENT)).toEqual(["sampled flag changed (00 → 01) without a new parent-id (W3C: the parent-id MUST change with it)"]);
    expect(traceparentProblems(CONGO_PARENT, unsampled)).toEqual(["sampled flag changed (01 → 00) without a new parent-id (W3C: the parent-id MUST change with it)"]);
  });

  it("fails a dropped, malformed or restarted traceparent", () => {
    expect(traceparentProblems(CONGO_PARENT, undefined)).toEqual(["traceparent missing from what the primary echoed (W3C: a receiver MUST send it on)"]);
    expect(traceparentProblems(CONGO_PARENT, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331")).toEqual([
      'traceparent reached the primary as "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", which is not a valid traceparent',
    ]);
    expect(traceparentProblems(CONGO_PARENT, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toEqual([
      "trace-id 4bf92f3577b34da6a3ce929d0e0e4736, sent 0af7651916cd43dd8448eb211c80319c: the trace is cut at the sidecar",
    ]);
  });
});

describe("tracestate", () => {
  it("parses members, dropping empty ones and optional whitespace", () => {
    expect(parseTracestate("rojo=00f067aa0ba902b7 , ,congo=t61rcWkgMzE")).toEqual([
      { key: "rojo", value: "00f067aa0ba902b7" },
      { key: "congo", value: "t61rcWkgMzE" },
    ]);
  });

  it("allows the W3C examples: a new member at the left, a modified one moved to the left", () => {
    expect(tracestateProblems("congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", true)).toEqual([]);
    expect(tracestateProblems("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "congo=ucfJifl5GOE,rojo=00f067aa0ba902b7", true)).toEqual([]);
    expect(tracestateProblems("a=1,b=2", "a=1, b=2", false)).toEqual([]);
  });

  it("fails a change while traceparent is unchanged, deleted or reordered members, and a modified member left in place", () => {
    expect(tracestateProblems("a=1,b=2", "x=9,a=1,b=2", false)).toEqual([
      'tracestate reached the primary as "x=9,a=1,b=2", sent "a=1,b=2", with traceparent unchanged (W3C: then tracestate MUST NOT change)',
    ]);
    expect(tracestateProblems("a=1,b=2", "x=9,a=1", true)).toEqual(['the caller\'s tracestate members b were deleted (sent "a=1,b=2", received "x=9,a=1")']);
    expect(tracestateProblems("a=1,b=2", "x=9,b=2,a=1", true)).toEqual(['the caller\'s tracestate members changed order: sent "a=1,b=2", received "x=9,b=2,a=1"']);
    expect(tracestateProblems("a=1,b=2", "a=1,b=3", true)).toEqual(["tracestate members b were modified but not moved to the left (W3C: they MUST be)"]);
    expect(tracestateProblems("a=1", undefined, true)).toEqual(["tracestate missing from what the primary echoed (W3C: a receiver MUST send it on)"]);
  });

  it("fails malformed members, repeated keys and more than 32 members", () => {
    expect(tracestateProblems("a=1", "A=2,a=1", true)).toEqual(['tracestate members not well-formed: "A=2"']);
    expect(tracestateProblems("a=1", "b=2,b=3,a=1", true)).toEqual(["tracestate repeats keys b"]);
    const many = Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(",");
    expect(tracestateProblems("k32=v", many, true)).toEqual(["tracestate has 33 members (at most 32)"]);
  });
});

describe("baggage", () => {
  it("allows added members and optional whitespace; fails lost members", () => {
    expect(baggageProblems("userId=alice,isProduction=false", "userId = alice, isProduction=false,added=1")).toEqual([]);
    expect(baggageProblems("userId=alice,isProduction=false", "userId=alice")).toEqual(['baggage members "isProduction=false" missing from what the primary echoed ("userId=alice")']);
    expect(baggageProblems("userId=alice", undefined)).toEqual(["baggage missing from what the primary echoed"]);
  });
});
