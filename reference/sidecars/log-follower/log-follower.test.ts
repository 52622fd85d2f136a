// log-follower on real files and a real TCP receiver: following through rename and
// copytruncate rotations (also two between polls), batching, buffering or dropping while
// the receiver is down, draining on SIGTERM — and each fault doing what it says.
import { spawn } from "node:child_process";
import { appendFileSync, copyFileSync, mkdtempSync, renameSync, truncateSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { FileFollower } from "./file-follower.mjs";
import { lineFaults, SPLIT_BYTES } from "./line-faults.mjs";
import { SyslogShipper } from "./syslog-shipper.mjs";

const here = dirname(fileURLToPath(import.meta.url));

function tempLog(): string {
  return join(mkdtempSync(join(tmpdir(), "log-follower-")), "access.log");
}

const lineOf = (seq: number) => `{"seq":${seq},"msg":"line ${seq}"}`;
const linesOf = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => lineOf(from + i));
const write = (path: string, from: number, to: number) => appendFileSync(path, linesOf(from, to).map((l) => `${l}\n`).join(""));

function follow(path: string, faults: { loseOnRename?: boolean; noTruncateDetect?: boolean } = {}) {
  const lines: string[] = [];
  const events: string[] = [];
  const follower = new FileFollower(path, { onLine: (line) => lines.push(line.toString("utf8")), onEvent: (event) => events.push(event), faults });
  return { follower, lines, events };
}

describe("FileFollower", () => {
  it("waits for the file, reads from its first byte and keeps an unfinished line until its newline", () => {
    const path = tempLog();
    const { follower, lines } = follow(path);
    expect(follower.poll()).toBe(false);
    writeFileSync(path, `${lineOf(1)}\n{"seq":2,`);
    follower.poll();
    expect(lines).toEqual([lineOf(1)]);
    appendFileSync(path, `"msg":"line 2"}\n`);
    follower.poll();
    expect(lines).toEqual(linesOf(1, 2));
  });

  it("finishes a renamed file before following the new one, also after two renames between polls", () => {
    const path = tempLog();
    const { follower, lines, events } = follow(path);
    write(path, 1, 5);
    follower.poll();
    write(path, 6, 8); // unread when the file is renamed
    renameSync(path, `${path}.1`);
    write(path, 9, 12);
    follower.poll();
    write(path, 13, 14);
    renameSync(`${path}.1`, `${path}.2`);
    renameSync(path, `${path}.1`);
    write(path, 15, 17);
    renameSync(`${path}.2`, `${path}.3`);
    renameSync(`${path}.1`, `${path}.2`);
    renameSync(path, `${path}.1`);
    write(path, 18, 20);
    follower.poll();
    expect(lines).toEqual(linesOf(1, 20));
    expect(follower.stats.renames).toBe(2);
    expect(events).not.toContain("lost-track");
  });

  it("after a copytruncate reads the unread rest from the copy, then the file from 0, even once it has grown past the old offset", () => {
    const path = tempLog();
    const { follower, lines } = follow(path);
    write(path, 1, 10);
    follower.poll();
    write(path, 11, 15); // unread: only in the copy after the truncation
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    write(path, 16, 60); // longer than before: the size alone does not show the truncation
    follower.poll();
    expect(lines).toEqual(linesOf(1, 60));
    expect(follower.stats.truncations).toBe(1);
  });

  it("follows two copytruncates between polls through both copies", () => {
    const path = tempLog();
    const { follower, lines } = follow(path);
    write(path, 1, 3);
    follower.poll();
    write(path, 4, 5);
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    write(path, 6, 8);
    renameSync(`${path}.1`, `${path}.2`);
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    write(path, 9, 9);
    follower.poll();
    expect(lines).toEqual(linesOf(1, 9));
  });

  it("lose-on-rename never opens the new file; no-truncate-detect reads the truncated file from its old offset", () => {
    const renamed = tempLog();
    const lose = follow(renamed, { loseOnRename: true });
    write(renamed, 1, 3);
    lose.follower.poll();
    renameSync(renamed, `${renamed}.1`);
    write(renamed, 4, 6);
    lose.follower.poll();
    expect(lose.lines).toEqual(linesOf(1, 3));

    const truncated = tempLog();
    const blind = follow(truncated, { noTruncateDetect: true });
    write(truncated, 1, 10);
    blind.follower.poll();
    copyFileSync(truncated, `${truncated}.1`);
    truncateSync(truncated, 0);
    write(truncated, 11, 30);
    blind.follower.poll();
    expect(blind.lines.slice(0, 10)).toEqual(linesOf(1, 10));
    expect(blind.lines).not.toContain(lineOf(11));
    expect(blind.lines.length).toBeLessThan(30);
  });
});

describe("lineFaults", () => {
  const infer = Buffer.from('{"seq":1,"method":"POST","path":"/v2/models/mlp/infer","status":200}');
  const probe = Buffer.from('{"seq":2,"method":"GET","path":"/v2/health/ready","status":200}');

  it("drop-lines drops one inference line in every n, never another line", () => {
    const transform = lineFaults(new Set(["drop-lines"]), 3, 0);
    const kept = Array.from({ length: 9 }, () => transform(infer).length);
    expect(kept).toEqual([1, 1, 0, 1, 1, 0, 1, 1, 0]);
    expect(Array.from({ length: 9 }, () => transform(probe).length)).toEqual(Array(9).fill(1));
  });

  it("latin1 doubles non-ASCII bytes and leaves ASCII alone; split-long-lines cuts only long lines", () => {
    const latin1 = lineFaults(new Set(["latin1"]), 1);
    expect(latin1(probe)).toEqual([probe]);
    expect(latin1(Buffer.from("é"))[0]!.toString("utf8")).toBe("Ã©");
    const split = lineFaults(new Set(["split-long-lines"]), 1);
    expect(split(probe)).toEqual([probe]);
    expect(split(Buffer.alloc(SPLIT_BYTES * 2 + 5, 120)).map((piece) => piece.length)).toEqual([SPLIT_BYTES, SPLIT_BYTES, 5]);
  });
});

/** A syslog/TCP receiver of octet-counted RFC 5424 frames; `messages` are the MSGs in arrival order. */
class Receiver {
  readonly messages: string[] = [];
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async up(): Promise<void> {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      let buffer = Buffer.alloc(0);
      socket.on("data", (data) => {
        buffer = Buffer.concat([buffer, data]);
        for (;;) {
          const space = buffer.indexOf(32);
          if (space < 0) return;
          const length = Number(buffer.subarray(0, space).toString());
          if (buffer.length < space + 1 + length) return;
          const frame = buffer.subarray(space + 1, space + 1 + length).toString("utf8");
          buffer = buffer.subarray(space + 1 + length);
          // <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG
          this.messages.push(frame.split(" ").slice(7).join(" "));
        }
      });
      socket.on("end", () => socket.end());
      socket.on("close", () => this.sockets.delete(socket));
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  /** Closes the listener and resets every connection, as the role backend's `down` does. */
  async down(): Promise<void> {
    for (const socket of this.sockets) socket.resetAndDestroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }
}

const receivers: Receiver[] = [];
const shippers: SyslogShipper[] = [];
afterEach(async () => {
  for (const shipper of shippers.splice(0)) shipper.abort();
  for (const receiver of receivers.splice(0)) if (receiver["server"]) await receiver.down();
});

async function receiver(): Promise<Receiver> {
  const r = new Receiver();
  await r.up();
  receivers.push(r);
  return r;
}

function shipper(port: number, options: Partial<ConstructorParameters<typeof SyslogShipper>[0]> = {}): SyslogShipper {
  const s = new SyslogShipper({ host: "127.0.0.1", port, whenDown: "buffer", batchMs: 100, batchBytes: 1 << 20, maxBufferBytes: 1 << 20, reconnectMs: 50, onEvent: () => {}, ...options });
  s.start();
  shippers.push(s);
  return s;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !condition(); ) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(10);
  }
}

describe("SyslogShipper", () => {
  it("sends each line as one message, in batches no older than batchMs", async () => {
    const r = await receiver();
    const s = shipper(r.port, { batchMs: 300 });
    await until(() => s.connected);
    for (const line of linesOf(1, 3)) s.enqueue(Buffer.from(line));
    await sleep(100);
    expect(r.messages).toEqual([]);
    await until(() => r.messages.length === 3);
    expect(r.messages).toEqual(linesOf(1, 3));
  });

  it("buffer: keeps what is written while the receiver is down and sends it once, in order, when it is back", async () => {
    const r = await receiver();
    const s = shipper(r.port);
    await until(() => s.connected);
    s.enqueue(Buffer.from(lineOf(1)));
    await until(() => r.messages.length === 1);
    await r.down();
    await until(() => !s.connected);
    for (const line of linesOf(2, 20)) s.enqueue(Buffer.from(line));
    await sleep(200);
    await r.up();
    await until(() => r.messages.length >= 20);
    await sleep(200);
    expect(r.messages).toEqual(linesOf(1, 20));
  });

  it("drop: counts what is written while the receiver is down and ships what comes after", async () => {
    const r = await receiver();
    const s = shipper(r.port, { whenDown: "drop" });
    await until(() => s.connected);
    await r.down();
    await until(() => !s.connected);
    for (const line of linesOf(1, 5)) s.enqueue(Buffer.from(line));
    await r.up();
    await until(() => s.connected);
    s.enqueue(Buffer.from(lineOf(6)));
    await until(() => r.messages.length === 1);
    expect(r.messages).toEqual([lineOf(6)]);
    expect(s.stats.droppedWhileDown).toBe(5);
  });

  it("duplicate-on-reconnect resends the last batch after the receiver comes back", async () => {
    const r = await receiver();
    const s = shipper(r.port, { faults: { duplicateOnReconnect: true } });
    await until(() => s.connected);
    for (const line of linesOf(1, 2)) s.enqueue(Buffer.from(line));
    await until(() => r.messages.length === 2);
    await r.down();
    await until(() => !s.connected);
    await r.up();
    await until(() => r.messages.length === 4);
    expect(r.messages).toEqual([...linesOf(1, 2), ...linesOf(1, 2)]);
  });

  it("drain sends what is queued at once and closes the connection", async () => {
    const r = await receiver();
    const s = shipper(r.port, { batchMs: 60_000 });
    await until(() => s.connected);
    for (const line of linesOf(1, 4)) s.enqueue(Buffer.from(line));
    expect(await s.drain(Date.now() + 2_000)).toEqual({ unsent: 0 });
    expect(r.messages).toEqual(linesOf(1, 4));
  });
});

/** Runs the sidecar on a file and a receiver; resolves with its exit code after `act`. */
async function runSidecar(path: string, port: number, args: string[], act: (admin: number) => Promise<void>): Promise<{ code: number | null; stdout: string }> {
  const adminServer = createServer();
  await new Promise<void>((resolve) => adminServer.listen(0, "127.0.0.1", resolve));
  const admin = (adminServer.address() as AddressInfo).port;
  await new Promise<void>((resolve) => adminServer.close(() => resolve()));
  const child = spawn(process.execPath, [join(here, "log-follower.mjs"), "--file", path, "--syslog-port", String(port), "--admin", String(admin), "--batch-ms", "1000", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  child.stdout.on("data", (data: Buffer) => (stdout += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    await until(() => stdout.includes('"admin-listening"'));
    await act(admin);
    child.kill("SIGTERM");
    return { code: await exited, stdout };
  } finally {
    child.kill("SIGKILL");
  }
}

describe("log-follower (the process)", () => {
  it("answers /ready and /stats, and on SIGTERM reads to the end of the file, sends everything and exits 0", async () => {
    const r = await receiver();
    const path = tempLog();
    const { code, stdout } = await runSidecar(path, r.port, [], async (admin) => {
      expect((await fetch(`http://127.0.0.1:${admin}/ready`)).status).toBe(200);
      write(path, 1, 50);
      await sleep(50); // read perhaps, but inside its first 1 s batch: unsent at SIGTERM
      const stats = (await (await fetch(`http://127.0.0.1:${admin}/stats`)).json()) as { shipper: { shipped: number } };
      expect(stats.shipper.shipped).toBe(0);
    });
    expect(code).toBe(0);
    expect(r.messages).toEqual(linesOf(1, 50));
    expect(stdout).toMatch(/"event":"exiting".*"drained":true/);
  });

  it("exit-without-draining exits at once on SIGTERM, losing what it held", async () => {
    const r = await receiver();
    const path = tempLog();
    const { code } = await runSidecar(path, r.port, ["--fault", "exit-without-draining"], async () => {
      write(path, 1, 50);
      await sleep(150);
    });
    expect(code).toBe(0);
    await sleep(100);
    expect(r.messages).toEqual([]);
  });
});
