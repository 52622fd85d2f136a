// An incremental HTTP/1.1 response reader for the open loop's lean pool (http1-pool.ts), and
// the reference the closed loop's native engine is checked against (native/closed-loop's
// parser.rs is a port; native-closed-loop.test.ts): it only needs each response's status and
// where its body ends (Content-Length, chunked, or the connection's close), never the body
// itself. A general parser (autocannon's http-parser-js, undici's llhttp) builds header
// objects and body chunks per response; this one scans bytes in place.

const CR = 13;
const LF = 10;
/** A response head larger than this is refused (Node's own limit is 16 KiB). */
export const MAX_HEAD_BYTES = 64 * 1024;
/** A chunk-size line (size and extensions) longer than this is refused: extensions may be long, but not unbounded. */
export const MAX_CHUNK_LINE_BYTES = 4 * 1024;
/** Hex digits of a chunk size: 13 keep it a safe integer (16^13 < 2^53). */
const MAX_CHUNK_SIZE_DIGITS = 13;

// A head ends at CRLF CRLF only. Heads with bare-LF line ends (RFC 9112 §2.2 lets a recipient
// accept them) are left unsupported on purpose: the servers measured here send CRLF, and
// such a head would wait for more bytes until MAX_HEAD_BYTES or the request's timeout.
const HTTP1_PREFIX = Buffer.from("HTTP/1.", "latin1");
const CONTENT_LENGTH = Buffer.from("content-length", "latin1");
const TRANSFER_ENCODING = Buffer.from("transfer-encoding", "latin1");
const CONNECTION = Buffer.from("connection", "latin1");
const CHUNKED = Buffer.from("chunked", "latin1");
const CLOSE = Buffer.from("close", "latin1");
const KEEP_ALIVE = Buffer.from("keep-alive", "latin1");

function digit(byte: number): number {
  return byte >= 0x30 && byte <= 0x39 ? byte - 0x30 : Number.NaN;
}

/** A HEXDIG's value, or -1. */
function hexDigit(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const l = byte | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09;
}

function lower(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
}

function startsWithAt(buffer: Buffer, at: number, prefix: Buffer): boolean {
  for (let i = 0; i < prefix.length; i++) if (buffer[at + i] !== prefix[i]) return false;
  return true;
}

/** The line at `line` is the header `name` (lower-case) followed by a colon. */
function nameIs(buffer: Buffer, line: number, end: number, name: Buffer): boolean {
  if (end - line <= name.length || buffer[line + name.length] !== 0x3a) return false;
  for (let i = 0; i < name.length; i++) if (lower(buffer[line + i]!) !== name[i]) return false;
  return true;
}

/**
 * A Content-Length value: a decimal between optional whitespace, or a list of the same
 * decimal repeated ("5, 5", which RFC 9110 §8.6 lets a recipient take as one); -2 when it is
 * not one, -3 when the list holds differing values.
 */
function contentLengthValue(buffer: Buffer, from: number, to: number): number {
  let value = -1;
  let start = from;
  for (let i = from; i <= to; i++) {
    if (i === to || buffer[i] === 0x2c) {
      const element = decimal(buffer, start, i);
      if (element < 0) return -2;
      if (value >= 0 && element !== value) return -3;
      value = element;
      start = i + 1;
    }
  }
  return value;
}

/** A decimal value between optional whitespace; -2 when it is not one. */
function decimal(buffer: Buffer, from: number, to: number): number {
  let value = 0;
  let digits = 0;
  for (let i = from; i < to; i++) {
    const byte = buffer[i]!;
    if (byte >= 0x30 && byte <= 0x39) {
      if (digits > 15) return -2;
      value = value * 10 + (byte - 0x30);
      digits++;
    } else if (byte !== 0x20 && byte !== 0x09) {
      return -2;
    }
  }
  return digits > 0 ? value : -2;
}

/** The comma-separated list in buffer[from, to) has `token` (lower-case) as an element. */
function containsToken(buffer: Buffer, from: number, to: number, token: Buffer): boolean {
  let start = from;
  for (let i = from; i <= to; i++) {
    if (i === to || buffer[i] === 0x2c) {
      let a = start;
      let b = i;
      while (a < b && (buffer[a] === 0x20 || buffer[a] === 0x09)) a++;
      while (b > a && (buffer[b - 1] === 0x20 || buffer[b - 1] === 0x09)) b--;
      if (b - a === token.length) {
        let same = true;
        for (let k = 0; k < token.length && same; k++) same = lower(buffer[a + k]!) === token[k];
        if (same) return true;
      }
      start = i + 1;
    }
  }
  return false;
}

/** The list's last element is `token` (Transfer-Encoding: the final coding decides the framing). */
function endsWithToken(buffer: Buffer, from: number, to: number, token: Buffer): boolean {
  let b = to;
  while (b > from && (buffer[b - 1] === 0x20 || buffer[b - 1] === 0x09)) b--;
  const a = b - token.length;
  if (a < from || (a > from && buffer[a - 1] !== 0x20 && buffer[a - 1] !== 0x2c && buffer[a - 1] !== 0x09)) return false;
  for (let k = 0; k < token.length; k++) if (lower(buffer[a + k]!) !== token[k]) return false;
  return true;
}

export interface ResponseEnd {
  status: number;
  /** The server said Connection: close (or spoke HTTP/1.0 without keep-alive): reconnect after it. */
  close: boolean;
}

type BodyMode = "length" | "chunked" | "until-close";

/**
 * What a connection's close meant: "ended" — it completed a response delimited by the close
 * (onEnd was called); "idle" — no response had begun (between responses, or none yet);
 * "cut" — a response had begun and was cut short. A request in flight is answered only by "ended".
 */
export type CloseOutcome = "ended" | "idle" | "cut";

const enum State {
  Head,
  Body,
  ChunkSize,
  ChunkData,
  /** The CR after a chunk's data. */
  ChunkDataCr,
  /** The LF after a chunk's data. */
  ChunkDataLf,
  Trailers,
}

/** Where a chunk-size line is: `1*HEXDIG [ BWS ";" ext ] CRLF` (RFC 9112 §7.1). */
const enum ChunkLine {
  Digits,
  /** Whitespace after the digits, before ";". */
  Space,
  Extension,
  /** The CR ending the line was seen: only LF may follow. */
  Cr,
}

export class Http1ResponseParser {
  private state = State.Head;
  /** Bytes of a head split over reads (rare: a head usually arrives in one read). */
  private head: Buffer | null = null;
  private status = 0;
  private close = false;
  private bodyMode: BodyMode = "length";
  private remaining = 0;
  private chunkLine = ChunkLine.Digits;
  private chunkSize = 0;
  private chunkSizeDigits = 0;
  private chunkLineBytes = 0;
  private trailerLineBytes = 0;
  private readonly ended: ResponseEnd = { status: 0, close: false };

  /**
   * Feeds bytes received from the socket (valid only during the call); calls onEnd per
   * complete response, in order. Throws on a malformed response.
   */
  push(data: Buffer, start: number, end: number, onEnd: (response: ResponseEnd) => void): void {
    let at = start;
    while (at < end) {
      switch (this.state) {
        case State.Head: {
          const next = this.readHead(data, at, end);
          if (next < 0) return; // head incomplete: wait for more
          at = next;
          if ((this.state as State) === State.Body && this.bodyMode === "length" && this.remaining === 0) this.finish(onEnd);
          break;
        }
        case State.Body: {
          if (this.bodyMode === "until-close") return; // ends with the connection (see closed())
          const take = Math.min(this.remaining, end - at);
          this.remaining -= take;
          at += take;
          if (this.remaining === 0) this.finish(onEnd);
          break;
        }
        case State.ChunkSize: {
          if (this.chunkSizeByte(data[at++]!)) {
            const size = this.chunkSize;
            this.startChunkLine();
            if (size === 0) {
              this.state = State.Trailers;
              this.trailerLineBytes = 0;
            } else {
              this.remaining = size;
              this.state = State.ChunkData;
            }
          }
          break;
        }
        case State.ChunkData: {
          const take = Math.min(this.remaining, end - at);
          this.remaining -= take;
          at += take;
          if (this.remaining === 0) this.state = State.ChunkDataCr;
          break;
        }
        case State.ChunkDataCr:
        case State.ChunkDataLf: {
          // Exactly CRLF after a chunk's data: anything else means the chunk ran past its size.
          const expected = this.state === State.ChunkDataCr ? CR : LF;
          if (data[at++] !== expected) throw new Error("chunk data not followed by CRLF (a chunk longer than its size?)");
          this.state = this.state === State.ChunkDataCr ? State.ChunkDataLf : State.ChunkSize;
          break;
        }
        case State.Trailers: {
          // Trailer lines until an empty line.
          const byte = data[at++]!;
          if (byte === LF) {
            if (this.trailerLineBytes === 0) this.finish(onEnd);
            else this.trailerLineBytes = 0;
          } else if (byte !== CR) {
            this.trailerLineBytes++;
          }
          break;
        }
      }
    }
  }

  /** The connection closed: completes a response delimited by the close (see CloseOutcome). */
  closed(onEnd: (response: ResponseEnd) => void): CloseOutcome {
    if (this.state === State.Body && this.bodyMode === "until-close") {
      this.finish(onEnd);
      return "ended";
    }
    return this.state === State.Head && this.head === null ? "idle" : "cut";
  }

  private startChunkLine(): void {
    this.chunkLine = ChunkLine.Digits;
    this.chunkSize = 0;
    this.chunkSizeDigits = 0;
    this.chunkLineBytes = 0;
  }

  /**
   * One byte of a chunk-size line; true at its end (this.chunkSize then holds the size).
   * Strict: `1*HEXDIG` ("0x3", "12junk", " 3" are refused), then optional `BWS ";" ext`
   * with the extension's bytes skipped. A bare LF ends the line too (RFC 9112 §2.2 allows it).
   */
  private chunkSizeByte(byte: number): boolean {
    if (++this.chunkLineBytes > MAX_CHUNK_LINE_BYTES) throw new Error(`chunk size line longer than ${MAX_CHUNK_LINE_BYTES} bytes`);
    if (byte === LF) {
      if (this.chunkSizeDigits === 0) throw new Error("bad chunk size: no hex digits");
      return true;
    }
    if (this.chunkLine === ChunkLine.Cr) throw new Error("bad chunk size line: CR not followed by LF");
    if (byte === CR) {
      this.chunkLine = ChunkLine.Cr;
      return false;
    }
    switch (this.chunkLine) {
      case ChunkLine.Digits: {
        const value = hexDigit(byte);
        if (value >= 0) {
          if (++this.chunkSizeDigits > MAX_CHUNK_SIZE_DIGITS) throw new Error(`bad chunk size: more than ${MAX_CHUNK_SIZE_DIGITS} hex digits`);
          this.chunkSize = this.chunkSize * 16 + value;
          return false;
        }
        if (this.chunkSizeDigits > 0 && (byte === 0x3b || isWhitespace(byte))) {
          this.chunkLine = byte === 0x3b ? ChunkLine.Extension : ChunkLine.Space;
          return false;
        }
        throw new Error(`bad chunk size: byte 0x${byte.toString(16)} after ${this.chunkSizeDigits} hex digits`);
      }
      case ChunkLine.Space:
        if (byte === 0x3b) this.chunkLine = ChunkLine.Extension;
        else if (!isWhitespace(byte)) throw new Error(`bad chunk size: byte 0x${byte.toString(16)} where ";" or the line's end belongs`);
        return false;
      default:
        return false; // an extension's bytes: not needed
    }
  }

  private finish(onEnd: (response: ResponseEnd) => void): void {
    this.state = State.Head;
    // One object per parser, refilled per response (valid during the call): no allocation per response.
    this.ended.status = this.status;
    this.ended.close = this.close;
    onEnd(this.ended);
  }

  /** Reads the head and returns the index in `data` after it, or -1 if it is not complete yet. */
  private readHead(data: Buffer, start: number, end: number): number {
    const pending = this.head;
    if (pending === null) {
      // The usual case: the whole head arrived in this read and is parsed where it lies.
      const next = this.parseHead(data, start, end);
      if (next >= 0) return next;
      if (end - start > MAX_HEAD_BYTES) throw new Error(`response head longer than ${MAX_HEAD_BYTES} bytes`);
      // Copied: the caller's buffer is reused for the next read.
      this.head = Buffer.from(data.subarray(start, end));
      return -1;
    }
    const buffer = Buffer.concat([pending, data.subarray(start, end)]);
    const next = this.parseHead(buffer, 0, buffer.length);
    if (next < 0) {
      if (buffer.length > MAX_HEAD_BYTES) throw new Error(`response head longer than ${MAX_HEAD_BYTES} bytes`);
      this.head = buffer;
      return -1;
    }
    this.head = null;
    return start + (next - pending.length);
  }

  /**
   * Parses a head that starts at buffer[from] and ends at the first CRLF CRLF before `end`,
   * from bytes, without building strings; returns the index after that CRLF CRLF, or -1 (and
   * changes nothing) when buffer[from, end) holds no complete head yet.
   *
   * One pass in JS, each line handled at its LF, rather than a Buffer#indexOf (a call into
   * C++) per line: a head is ~100–300 bytes, parsing was ~1–2 µs of the Node closed loop's ~16
   * CPU-µs per request on this project's machines, and the single pass took 3–4 % off its
   * CPU per request (same-process A/B).
   */
  private parseHead(buffer: Buffer, from: number, end: number): number {
    let contentLength = -1;
    let transferEncoding = false;
    let chunked = false;
    let close = false;
    let keepAlive = false;
    /** Where the current header line starts; -1 while in the status line. */
    let line = -1;
    let to = -1;
    for (let i = from; i < end; i++) {
      if (buffer[i] !== LF) continue;
      if (i >= from + 3 && buffer[i - 1] === CR && buffer[i - 2] === LF && buffer[i - 3] === CR) {
        to = i - 3; // where the final CRLF CRLF begins
        break;
      }
      if (line >= 0) {
        const valueEnd = buffer[i - 1] === CR ? i - 1 : i;
        // Only three header names matter: compared byte by byte, case-insensitively, after
        // a look at the first letter ("c" or "t").
        const first = buffer[line]! | 0x20;
        if (first === 0x63 && nameIs(buffer, line, valueEnd, CONTENT_LENGTH)) {
          // Several fields: the same value each time, or the framing is ambiguous (-3).
          const value = contentLengthValue(buffer, line + CONTENT_LENGTH.length + 1, valueEnd);
          if (contentLength === -1) contentLength = value;
          else if (contentLength >= 0) contentLength = value < 0 || value === contentLength ? value : -3;
          // else: already malformed (-2) or ambiguous (-3), kept
        } else if (first === 0x74 && nameIs(buffer, line, valueEnd, TRANSFER_ENCODING)) {
          // Several fields form one list: the last one's final coding decides.
          transferEncoding = true;
          chunked = endsWithToken(buffer, line + TRANSFER_ENCODING.length + 1, valueEnd, CHUNKED);
        } else if (first === 0x63 && nameIs(buffer, line, valueEnd, CONNECTION)) {
          close ||= containsToken(buffer, line + CONNECTION.length + 1, valueEnd, CLOSE);
          keepAlive ||= containsToken(buffer, line + CONNECTION.length + 1, valueEnd, KEEP_ALIVE);
        }
      }
      line = i + 1;
    }
    if (to < 0) return -1;
    // "HTTP/1.1 200 OK\r\n" …
    if (to - from < 12 || !startsWithAt(buffer, from, HTTP1_PREFIX)) {
      throw new Error(`not an HTTP/1.x response: ${JSON.stringify(buffer.toString("latin1", from, Math.min(to, from + 40)))}`);
    }
    const status = digit(buffer[from + 9]!) * 100 + digit(buffer[from + 10]!) * 10 + digit(buffer[from + 11]!);
    if (!(status >= 100 && status <= 999)) throw new Error(`bad status line ${JSON.stringify(buffer.toString("latin1", from, Math.min(to, from + 40)))}`);
    const http10 = buffer[from + 7] === 0x30; // "HTTP/1.0"
    // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length (a malformed one included);
    // without it, a malformed or ambiguous Content-Length is an unrecoverable framing error.
    if (transferEncoding) contentLength = -1;
    else if (contentLength === -2) throw new Error("bad Content-Length");
    else if (contentLength === -3) throw new Error("differing Content-Length values");
    this.status = status;
    this.close = close || (http10 && !keepAlive);
    if (status < 200) {
      // 1xx: an interim response; the real one follows.
      this.state = State.Head;
      this.status = 0;
      return to + 4;
    }
    if (status === 204 || status === 304) {
      this.bodyMode = "length";
      this.remaining = 0;
      this.state = State.Body;
    } else if (transferEncoding && chunked) {
      this.bodyMode = "chunked";
      this.startChunkLine();
      this.state = State.ChunkSize;
    } else if (contentLength >= 0 && Number.isSafeInteger(contentLength)) {
      this.bodyMode = "length";
      this.remaining = contentLength;
      this.state = State.Body;
    } else {
      // A Transfer-Encoding whose final coding is not chunked (§6.3 item 4), or no length at all (item 7).
      this.bodyMode = "until-close";
      this.close = true;
      this.state = State.Body;
    }
    return to + 4;
  }
}
