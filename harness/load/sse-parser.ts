// An incremental parser of Server-Sent Events (the WHATWG "event stream" format): bytes
// arrive in arbitrary chunks — an event, a line, even a UTF-8 character may be split
// between two — and each complete event is returned as soon as its blank line arrives.
// Only what a token stream needs is kept: the event type and its data lines.

export interface SseEvent {
  /** The `event:` field, "message" when absent. */
  type: string;
  /** The `data:` lines joined with "\n". */
  data: string;
}

/** Refuse an unterminated line longer than this: a body that is not SSE must not grow memory without bound. */
export const MAX_LINE_CHARS = 1 << 20;

export class SseParser {
  private readonly decoder = new TextDecoder("utf-8");
  private pending = "";
  /** A chunk ended in "\r": a "\n" starting the next chunk belongs to the same line end. */
  private afterCr = false;
  private type = "";
  private data: string[] = [];
  private started = false;

  /** Feeds one chunk; returns the events it completed, in order. */
  push(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    if (!this.started && text.length > 0) {
      this.started = true;
      // The stream may begin with a byte order mark, which is not part of the first field.
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.afterCr && text.startsWith("\n")) text = text.slice(1);
    if (text.length > 0) this.afterCr = false;
    const events: SseEvent[] = [];
    let buffer = this.pending + text;
    let start = 0;
    for (;;) {
      const cr = buffer.indexOf("\r", start);
      const lf = buffer.indexOf("\n", start);
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      if (end === -1) break;
      this.line(buffer.slice(start, end), events);
      if (buffer[end] === "\r") {
        if (end + 1 === buffer.length) {
          this.afterCr = true;
          start = end + 1;
          break;
        }
        start = buffer[end + 1] === "\n" ? end + 2 : end + 1;
      } else {
        start = end + 1;
      }
    }
    buffer = buffer.slice(start);
    if (buffer.length > MAX_LINE_CHARS) throw new Error(`SSE: a line longer than ${MAX_LINE_CHARS} characters without a line end`);
    this.pending = buffer;
    return events;
  }

  /** The body ended: an event without its closing blank line is discarded, as the format says. */
  end(): void {
    this.decoder.decode();
    this.pending = "";
    this.data = [];
    this.type = "";
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === "") {
      if (this.data.length > 0) events.push({ type: this.type || "message", data: this.data.join("\n") });
      this.data = [];
      this.type = "";
      return;
    }
    if (line.startsWith(":")) return; // a comment (keep-alive)
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.type = value;
    // id and retry matter to reconnecting browsers, not to one measured request.
  }
}
