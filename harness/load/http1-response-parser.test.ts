import { describe, expect, it } from "vitest";
import { Http1ResponseParser, type ResponseEnd } from "./http1-response-parser.ts";

/** Feeds `pieces` one by one (as separate reads) and returns each completed response. */
function feed(pieces: string[], parser = new Http1ResponseParser()): ResponseEnd[] {
  const ended: ResponseEnd[] = [];
  for (const piece of pieces) {
    // Reads land in a larger reused buffer, with stale bytes after them.
    const buffer = Buffer.alloc(piece.length + 64, "\r\n\r\nstale");
    buffer.write(piece, 0, "latin1");
    parser.push(buffer, 0, piece.length, (r) => ended.push({ ...r }));
  }
  return ended;
}

const OK = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";

describe("Http1ResponseParser", () => {
  it("ends a Content-Length response, several in one read, and split anywhere", () => {
    expect(feed([OK + OK.replace("200 OK", "503 Service Unavailable")])).toEqual([
      { status: 200, close: false },
      { status: 503, close: false },
    ]);
    const twice = OK + OK;
    for (let cut = 1; cut < twice.length; cut++) {
      expect(feed([twice.slice(0, cut), twice.slice(cut)]).map((r) => r.status)).toEqual([200, 200]);
    }
  });

  it("reads chunked bodies with extensions and trailers, byte by byte too", () => {
    const chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, Chunked\r\n\r\n5;ext=1\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: 1\r\n\r\n";
    expect(feed([chunked + OK]).map((r) => r.status)).toEqual([200, 200]);
    expect(feed([...chunked + OK]).map((r) => r.status)).toEqual([200, 200]);
  });

  it("skips 1xx answers, knows 204 has no body, and honours Connection: close and HTTP/1.0", () => {
    expect(feed(["HTTP/1.1 100 Continue\r\n\r\n" + OK])).toEqual([{ status: 200, close: false }]);
    expect(feed(["HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n" + OK]).map((r) => r.status)).toEqual([204, 200]);
    expect(feed([OK.replace("Content-Type", "CONNECTION: keep-alive, Close\r\nContent-Type")])).toEqual([{ status: 200, close: true }]);
    expect(feed([OK.replace("HTTP/1.1", "HTTP/1.0")])).toEqual([{ status: 200, close: true }]);
    expect(feed([OK.replace("HTTP/1.1", "HTTP/1.0").replace("Content-Type", "Connection: keep-alive\r\nContent-Type")])).toEqual([{ status: 200, close: false }]);
  });

  it("ends a body without length at the close, and says when a close cut an answer short", () => {
    const parser = new Http1ResponseParser();
    expect(feed(["HTTP/1.1 200 OK\r\n\r\nsome body"], parser)).toEqual([]);
    const ended: ResponseEnd[] = [];
    expect(parser.closed((r) => ended.push({ ...r }))).toBe("ended");
    expect(ended).toEqual([{ status: 200, close: true }]);
    const cut = new Http1ResponseParser();
    feed([OK.slice(0, -2)], cut);
    expect(cut.closed(() => undefined)).toBe("cut");
  });

  it("tells a close between responses from one that completed a response", () => {
    const parser = new Http1ResponseParser();
    expect(parser.closed(() => undefined)).toBe("idle");
    feed([OK], parser);
    expect(parser.closed(() => undefined)).toBe("idle");
    const untilClose = new Http1ResponseParser();
    feed(["HTTP/1.1 200 OK\r\n\r\nsome body"], untilClose);
    expect(untilClose.closed(() => undefined)).toBe("ended");
  });

  it("takes only strict hex chunk sizes, with extensions up to a long line", () => {
    const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (const size of ["0x3", "12junk", "", " 3", "-3", "+3", "3 x"]) {
      expect(() => feed([`${head}${size}\r\nabc\r\n0\r\n\r\n`]), JSON.stringify(size)).toThrow(/chunk size/);
    }
    // chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ), which may be long (RFC 9112 §7.1.1).
    const ext = `;name=${"v".repeat(1000)}`;
    expect(feed([`${head}3 ${ext}\r\nabc\r\n0${ext}\r\n\r\n`]).map((r) => r.status)).toEqual([200]);
    expect(feed([...`${head}3${ext}\r\nabc\r\n0\r\n\r\n`]).map((r) => r.status)).toEqual([200]);
    expect(() => feed([`${head}3;${"x".repeat(5000)}\r\nabc\r\n0\r\n\r\n`])).toThrow(/chunk size line longer/);
  });

  it("requires CRLF right after a chunk's data: a chunk longer than its size is an error", () => {
    const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    expect(() => feed([`${head}3\r\nabcd\r\n0\r\n\r\n`])).toThrow(/chunk data/);
    expect(() => feed([`${head}3\r\nabc\n0\r\n\r\n`])).toThrow(/chunk data/);
  });

  it("frames by Transfer-Encoding over Content-Length, and refuses differing lengths (RFC 9112 §6.3)", () => {
    // Transfer-Encoding without chunked last: the body runs until the close, Content-Length notwithstanding.
    const gzip = new Http1ResponseParser();
    expect(feed(["HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nabcdef"], gzip)).toEqual([]);
    expect(gzip.closed(() => undefined)).toBe("ended");
    // With Transfer-Encoding present, a Content-Length is ignored, even a malformed one.
    const chunked = "HTTP/1.1 200 OK\r\nContent-Length: 99x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    expect(feed([chunked + OK]).map((r) => r.status)).toEqual([200, 200]);
    expect(() => feed(["HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"])).toThrow(/Content-Length/);
    expect(() => feed(["HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!"])).toThrow(/Content-Length/);
    // The same value repeated is one length (RFC 9110 §8.6).
    expect(feed(["HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5, 5\r\n\r\nhello" + OK]).map((r) => r.status)).toEqual([200, 200]);
  });

  it("refuses what is not an HTTP/1.x response", () => {
    expect(() => feed(["SSH-2.0-OpenSSH\r\n\r\n"])).toThrow(/not an HTTP\/1.x response/);
    expect(() => feed(["HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n"])).toThrow(/Content-Length/);
  });
});
