import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SseParser, type SseEvent } from "./sse-parser.ts";

const fixture = readFileSync(new URL("./fixtures/generate-stream.sse", import.meta.url));

function parseInPieces(bytes: Buffer, cuts: number[]): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...parser.push(bytes.subarray(at, cut)));
    at = cut;
  }
  parser.end();
  return events;
}

describe("SseParser", () => {
  it("reads the fixture stream's four data events", () => {
    const events = parseInPieces(fixture, []);
    expect(events.map((e) => e.type)).toEqual(["message", "message", "message", "message"]);
    expect(events.map((e) => (JSON.parse(e.data) as { text_output: string }).text_output)).toEqual(["the", " proxy", " ló", " token"]);
  });

  it("gives the same events for every split of the bytes into two chunks, UTF-8 characters included", () => {
    const whole = parseInPieces(fixture, []);
    for (let cut = 1; cut < fixture.length; cut++) {
      expect(parseInPieces(fixture, [cut])).toEqual(whole);
    }
  });

  it("gives the same events fed one byte at a time", () => {
    expect(parseInPieces(fixture, Array.from({ length: fixture.length - 1 }, (_, i) => i + 1))).toEqual(parseInPieces(fixture, []));
  });

  it("accepts CRLF and CR line ends, split between chunks too", () => {
    const crlf = Buffer.from('data: {"a":1}\r\n\r\ndata: {"a":2}\r\r');
    const expected = [{ type: "message", data: '{"a":1}' }, { type: "message", data: '{"a":2}' }];
    expect(parseInPieces(crlf, [])).toEqual(expected);
    for (let cut = 1; cut < crlf.length; cut++) expect(parseInPieces(crlf, [cut])).toEqual(expected);
  });

  it("joins multi-line data, keeps the event type, skips comments and unknown fields", () => {
    const text = ": keep-alive\nid: 3\nretry: 10\nevent: error\ndata: first\ndata:second\n\n";
    expect(parseInPieces(Buffer.from(text), [])).toEqual([{ type: "error", data: "first\nsecond" }]);
  });

  it("drops an event whose closing blank line never came, and a BOM at the start", () => {
    expect(parseInPieces(Buffer.from('\uFEFFdata: {"a":1}\n\ndata: {"cut":'), [])).toEqual([{ type: "message", data: '{"a":1}' }]);
  });

  it("refuses a body that never ends a line rather than growing without bound", () => {
    const parser = new SseParser();
    expect(() => parser.push("x".repeat((1 << 20) + 1))).toThrow(/line longer than/);
  });
});
