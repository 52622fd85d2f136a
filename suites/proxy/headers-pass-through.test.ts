// headers-pass-through's judgement without pods: what it sends, and how it judges what
// the primary echoed — what RFC 9110 and W3C Trace Context let a proxy change passes,
// anything else fails with the header named.
import { describe, expect, it } from "vitest";
import type { ResponseHeaders } from "../../harness/load/http-exchange.ts";
import { requestHeaderProblems, responseHeaderProblems, traceHeaders, type SentHeaders } from "./headers-pass-through.ts";

/** What the primary's /v2/debug/echo answers when it received `headers` as they are. */
function echoOf(headers: SentHeaders): ResponseHeaders {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [`x-echo-${name}`, value]));
}

/** A try's headers with the repeated field (every fourth block of tries carries it). */
const withRepeated = () => traceHeaders(4);

describe("traceHeaders", () => {
  it("sends a fresh trace every try, sampled and unsampled by block of four, with the caller's tracestate and baggage", () => {
    const first = traceHeaders(0);
    const again = traceHeaders(0);
    expect(first["traceparent"]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(again["traceparent"]).not.toBe(first["traceparent"]);
    expect(traceHeaders(3)["traceparent"]).toMatch(/-01$/);
    expect(traceHeaders(4)["traceparent"]).toMatch(/-00$/);
    expect(String(traceHeaders(8)["tracestate"]).split(",")).toHaveLength(3);
    expect(first["baggage"]).toMatch(/^model=mlp,run=[0-9a-f]{8};ttl=60$/);
  });

  it("varies the request id (UUID or not) and carries the repeated field on some blocks only", () => {
    expect(traceHeaders(0)["x-request-id"]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(traceHeaders(8)["x-request-id"]).toMatch(/^sidecar-bench-[0-9a-f]{16}$/);
    expect(withRepeated()["x-sidecar-bench-list"]).toHaveLength(2);
    expect(traceHeaders(0)["x-sidecar-bench-list"]).toBeUndefined();
  });

  it("sends no B3 headers, which a Zipkin tracer may legitimately replace", () => {
    for (let attempt = 0; attempt < 16; attempt++) expect(Object.keys(traceHeaders(attempt)).filter((name) => name.startsWith("x-b3-"))).toEqual([]);
  });
});

describe("requestHeaderProblems", () => {
  it("passes headers forwarded unchanged", () => {
    const sent = withRepeated();
    expect(requestHeaderProblems(sent, echoOf(sent))).toEqual([]);
  });

  it("passes what a tracing proxy may do: its own parent-id and tracestate entry, added baggage, repeated lines combined", () => {
    const sent = withRepeated();
    const [version, traceId, , flags] = String(sent["traceparent"]).split("-");
    const received = {
      ...sent,
      traceparent: `${version}-${traceId}-00f067aa0ba902b7-${flags}`,
      tracestate: `rojo=00f067aa0ba902b7,${sent["tracestate"]}`,
      baggage: `${sent["baggage"]},mesh=on`,
      "x-sidecar-bench-list": (sent["x-sidecar-bench-list"] as string[]).join(",  "),
    };
    expect(requestHeaderProblems(sent, echoOf(received))).toEqual([]);
  });

  it("fails a cut trace, a changed or missing request id and a changed custom header, naming each", () => {
    const sent = traceHeaders(0);
    const received = {
      ...sent,
      traceparent: String(sent["traceparent"]).replace(/^00-[0-9a-f]{32}/, `00-${"ab".repeat(16)}`),
      "x-sidecar-bench-custom": "rewritten",
    };
    delete (received as SentHeaders)["x-request-id"];
    const problems = requestHeaderProblems(sent, echoOf(received));
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^trace-id abab.* the trace is cut at the sidecar$/);
    expect(problems).toContain("x-request-id missing from what the primary echoed");
    expect(problems).toContain(`x-sidecar-bench-custom sent ${JSON.stringify(sent["x-sidecar-bench-custom"])}, echoed back as "rewritten"`);
  });

  it("fails items of a repeated field lost when its lines were combined", () => {
    const sent = withRepeated();
    const [first] = sent["x-sidecar-bench-list"] as string[];
    expect(requestHeaderProblems(sent, echoOf({ ...sent, "x-sidecar-bench-list": first! }))).toEqual([
      `x-sidecar-bench-list sent ${JSON.stringify(sent["x-sidecar-bench-list"])}, echoed back as ${JSON.stringify(first)}`,
    ]);
  });
});

describe("responseHeaderProblems", () => {
  const sent = traceHeaders(0);
  const direct: ResponseHeaders = {
    "content-type": "application/octet-stream",
    "content-length": "42",
    date: "Sun, 06 Dec 2026 20:00:00 GMT",
    server: "uvicorn",
    "cache-control": "no-store",
    "x-model-version": "1",
    ...echoOf(sent),
    "x-echo-host": "127.0.0.1:8000",
  };

  it("passes the framing, Date, Server and Host echo a proxy sets per hop, and a Via it appends to", () => {
    const viaSidecar: ResponseHeaders = {
      ...direct,
      "content-length": undefined,
      "transfer-encoding": "chunked",
      date: "Sun, 06 Dec 2026 20:00:01 GMT",
      server: "envoy",
      "x-echo-host": "127.0.0.1:15001",
      via: "1.1 sidecar",
    };
    expect(responseHeaderProblems(sent, direct, viaSidecar)).toEqual([]);
    expect(responseHeaderProblems(sent, { ...direct, via: "1.0 upstream" }, { ...viaSidecar, via: "1.0 upstream, 1.1 sidecar" })).toEqual([]);
  });

  it("ignores headers the primary's Connection header names as hop-by-hop", () => {
    expect(responseHeaderProblems(sent, { ...direct, connection: "keep-alive, x-hop", "x-hop": "1" }, { ...direct })).toEqual([]);
  });

  it("fails an end-to-end header dropped or changed, and a Via whose earlier entries were rewritten", () => {
    const { "cache-control": _dropped, ...rest } = direct;
    expect(responseHeaderProblems(sent, direct, { ...rest, "x-model-version": "2" })).toEqual([
      'response header cache-control missing (directly "no-store")',
      'response x-model-version "2", directly "1"',
    ]);
    expect(responseHeaderProblems(sent, { ...direct, via: "1.0 upstream" }, { ...direct, via: "1.1 sidecar" })).toEqual(['response via "1.1 sidecar", directly "1.0 upstream"']);
  });
});
