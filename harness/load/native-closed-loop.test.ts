// The closed loop's native engine frames answers as http1-response-parser.ts does: both read
// the same byte streams, split into the same reads, and must report the same events — each
// answer's status and close flag, what a close meant, and where a malformed answer is
// refused. The cases are the TypeScript parser's own test vectors plus seeded random
// answers (every framing, 1xx and 204, split at random points, and corrupted at random bytes).
import { spawn, spawnSync } from "node:child_process";
import { startTestServer } from "./fixtures/test-server.ts";
import { describe, expect, it } from "vitest";
import { NATIVE_CLOSED_LOOP_PATH } from "./closed-loop.ts";
import { Http1ResponseParser } from "./http1-response-parser.ts";
import { seededRandom, type RandomSource } from "./seeded-random.ts";

/** A stream as the socket delivers it: reads, and (null) the connection's close. */
type Stream = Array<string | null>;

function typescriptEvents(stream: Stream): string[] {
  const events: string[] = [];
  let parser = new Http1ResponseParser();
  const onEnd = (r: { status: number; close: boolean }): void => void events.push(`end ${r.status} ${r.close ? 1 : 0}`);
  try {
    for (const read of stream) {
      if (read === null) {
        events.push(`closed ${parser.closed(onEnd)}`);
        parser = new Http1ResponseParser();
        continue;
      }
      // A larger reused buffer with stale bytes after the read, as the engines read.
      const buffer = Buffer.alloc(read.length + 16, "\r\n\r\n");
      buffer.write(read, 0, "latin1");
      parser.push(buffer, 0, read.length, onEnd);
    }
  } catch {
    events.push("error");
  }
  return events;
}

/** Runs one stream through the engine's parser (one process per stream keeps an error from hiding the rest). */
function nativeStreamEvents(stream: Stream): string[] {
  const frames: Buffer[] = [];
  for (const read of stream) {
    const length = Buffer.alloc(4);
    length.writeUInt32LE(read === null ? 0xffffffff : read.length);
    frames.push(length);
    if (read !== null) frames.push(Buffer.from(read, "latin1"));
  }
  const run = spawnSync(NATIVE_CLOSED_LOOP_PATH, ["parse"], { input: Buffer.concat(frames), encoding: "utf8" });
  if (run.status !== 0) throw new Error(`parse mode failed: ${run.stderr}`);
  return run.stdout
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => (line.startsWith("error") ? "error" : line));
}

const OK = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
const CHUNKED_HEAD = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

/** The TypeScript parser's test vectors, as streams. */
const VECTORS: Stream[] = [
  [OK + OK.replace("200 OK", "503 Service Unavailable"), null],
  ["HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, Chunked\r\n\r\n5;ext=1\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: 1\r\n\r\n" + OK],
  ["HTTP/1.1 100 Continue\r\n\r\n" + OK],
  ["HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n" + OK],
  [OK.replace("Content-Type", "CONNECTION: keep-alive, Close\r\nContent-Type")],
  [OK.replace("HTTP/1.1", "HTTP/1.0")],
  [OK.replace("HTTP/1.1", "HTTP/1.0").replace("Content-Type", "Connection: keep-alive\r\nContent-Type")],
  ["HTTP/1.1 200 OK\r\n\r\nsome body", null],
  [OK.slice(0, -2), null],
  [null],
  [OK, null],
  ...["0x3", "12junk", "", " 3", "-3", "+3", "3 x"].map((size): Stream => [`${CHUNKED_HEAD}${size}\r\nabc\r\n0\r\n\r\n`]),
  [`${CHUNKED_HEAD}3 ;name=${"v".repeat(1000)}\r\nabc\r\n0;name=${"v".repeat(1000)}\r\n\r\n`],
  [...`${CHUNKED_HEAD}3;name=${"v".repeat(1000)}\r\nabc\r\n0\r\n\r\n`],
  [`${CHUNKED_HEAD}3;${"x".repeat(5000)}\r\nabc\r\n0\r\n\r\n`],
  [`${CHUNKED_HEAD}3\r\nabcd\r\n0\r\n\r\n`],
  [`${CHUNKED_HEAD}3\r\nabc\n0\r\n\r\n`],
  ["HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nabcdef", null],
  ["HTTP/1.1 200 OK\r\nContent-Length: 99x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + OK],
  ["HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"],
  ["HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!"],
  ["HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5, 5\r\n\r\nhello" + OK],
  ["SSH-2.0-OpenSSH\r\n\r\n"],
  ["HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n"],
  ["HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n"],
  ["HTTP/1.1 2x0 Odd\r\nContent-Length: 0\r\n\r\n"],
  ["HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999\r\n\r\nabc", null],
  ["HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999\r\n\r\nabc", null],
  [`HTTP/1.1 200 OK\r\nX-Big: ${"b".repeat(70_000)}\r\n\r\n`],
  [`HTTP/1.1 200 OK\r\nX-Big: ${"b".repeat(40_000)}`, `${"b".repeat(40_000)}\r\n\r\n`],
];

function pick<T>(random: RandomSource, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** One answer in one of the framings either engine must read. */
function randomAnswer(random: RandomSource): string {
  const status = pick(random, ["200 OK", "201 Created", "404 Not Found", "503 Service Unavailable", "204 No Content", "304 Not Modified"]);
  const version = random() < 0.1 ? "HTTP/1.0" : "HTTP/1.1";
  const body = "x".repeat(Math.floor(random() * 40));
  const interim = random() < 0.1 ? "HTTP/1.1 100 Continue\r\n\r\n" : "";
  const connection = pick(random, ["", "", "Connection: keep-alive\r\n", "Connection: close\r\n", "connection: Keep-Alive, Upgrade\r\n"]);
  const framing = pick(random, ["length", "length", "chunked", "repeated-length"]);
  if (framing === "chunked") {
    const chunks = body.length > 0 ? `${body.length.toString(16)}${random() < 0.3 ? ";a=b" : ""}\r\n${body}\r\n` : "";
    const trailer = random() < 0.3 ? "X-T: 1\r\n" : "";
    return `${interim}${version} ${status}\r\n${connection}Transfer-Encoding: chunked\r\n\r\n${chunks}0\r\n${trailer}\r\n`;
  }
  const length = framing === "repeated-length" ? `Content-Length: ${body.length}, ${body.length}` : `content-length: ${body.length}`;
  const sent = status.startsWith("204") || status.startsWith("304") ? "" : body;
  return `${interim}${version} ${status}\r\n${connection}${length}\r\nServer: t\r\n\r\n${sent}`;
}

/** Splits `text` into reads at random points. */
function randomReads(random: RandomSource, text: string): string[] {
  const reads: string[] = [];
  let at = 0;
  while (at < text.length) {
    const take = 1 + Math.floor(random() * (random() < 0.5 ? 8 : 200));
    reads.push(text.slice(at, at + take));
    at += take;
  }
  return reads;
}

function randomStreams(seed: number, count: number): Stream[] {
  const random = seededRandom(seed);
  const streams: Stream[] = [];
  for (let i = 0; i < count; i++) {
    let text = Array.from({ length: 1 + Math.floor(random() * 4) }, () => randomAnswer(random)).join("");
    // A third are corrupted at one byte: both must refuse, or both accept, at the same answer.
    if (random() < 0.33) {
      const at = Math.floor(random() * text.length);
      text = text.slice(0, at) + pick(random, ["\r", "\n", "x", "0", ";", " ", ",", "9"]) + text.slice(at + 1);
    }
    // Some are cut short, and a close ends each.
    if (random() < 0.2) text = text.slice(0, Math.floor(random() * text.length));
    streams.push([...randomReads(random, text), null]);
  }
  return streams;
}

describe("the native closed loop's parser", () => {
  it("reports what http1-response-parser.ts reports on its own test vectors", () => {
    for (const stream of VECTORS) {
      const expected = typescriptEvents(stream);
      expect(nativeStreamEvents(stream), JSON.stringify(stream).slice(0, 200)).toEqual(expected);
    }
    // Not vacuous: the vectors hold answers, refusals and each kind of close.
    const all = VECTORS.flatMap(typescriptEvents);
    for (const event of ["end 200 0", "end 200 1", "end 503 0", "end 204 0", "error", "closed idle", "closed cut", "closed ended"]) expect(all).toContain(event);
  });

  it("reports what http1-response-parser.ts reports on 300 seeded random streams", () => {
    const streams = randomStreams(20261208, 300);
    let errors = 0;
    let ends = 0;
    for (const stream of streams) {
      const expected = typescriptEvents(stream);
      errors += expected.filter((e) => e === "error").length;
      ends += expected.filter((e) => e.startsWith("end")).length;
      expect(nativeStreamEvents(stream), JSON.stringify(stream).slice(0, 300)).toEqual(expected);
    }
    expect(errors).toBeGreaterThan(10);
    expect(ends).toBeGreaterThan(300);
  });
});

describe("the native closed loop's process", () => {
  it("outlives a Ctrl-C to its group and answers with its counts when the harness says stop", async () => {
    const server = await startTestServer();
    try {
      const port = new URL(server.url).port;
      const request = Buffer.from("GET / HTTP/1.1\r\nHost: t\r\n\r\n", "latin1");
      const engine = spawn(NATIVE_CLOSED_LOOP_PATH, ["run", "--host", "127.0.0.1", "--port", port, "--connections", "2", "--duration-ms", "30000", "--max-requests", "100000000", "--timeout-ms", "2000", "--request-bytes", String(request.length)]);
      let out = "";
      engine.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
      const exited = new Promise<[number | null, string | null]>((resolve) => engine.once("close", (code, signal) => resolve([code, signal])));
      engine.stdin.write(request);
      await new Promise((resolve) => setTimeout(resolve, 300));
      engine.kill("SIGINT");
      engine.kill("SIGTERM");
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(engine.exitCode).toBeNull();
      engine.stdin.end("stop");
      expect(await exited).toEqual([0, null]);
      const outcome = JSON.parse(out) as { requests: number; ok: number; errors: Record<string, number> };
      expect(outcome.ok).toBeGreaterThan(0);
      expect(outcome.ok).toBe(outcome.requests);
    } finally {
      await server.close();
    }
  });
});
