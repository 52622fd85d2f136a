// The lean open-loop pool against a misbehaving server: every request settles exactly once.
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { Http1Pool, type PooledRequest } from "./http1-pool.ts";

const ANSWER = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A keep-alive server that answers each request head with `answersPerRequest` well-formed responses. */
async function answeringServer(answersPerRequest: number): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let seen = "";
    socket.on("data", (data: Buffer) => {
      seen += data.toString("latin1");
      let end: number;
      while ((end = seen.indexOf("\r\n\r\n")) >= 0) {
        seen = seen.slice(end + 4);
        socket.write(ANSWER.repeat(answersPerRequest));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

interface Tracked {
  request: PooledRequest;
  settled: Promise<string>;
  /** How many times end/fail were called (must be 1). */
  settles(): number;
}

function track(deadlineMs: number): Tracked {
  let count = 0;
  let resolve: (outcome: string) => void = () => undefined;
  const settled = new Promise<string>((r) => (resolve = r));
  const request: PooledRequest = {
    deadlineMs,
    written: () => undefined,
    end: (status) => {
      count++;
      resolve(String(status));
    },
    fail: (kind) => {
      count++;
      resolve(kind);
    },
  };
  return { request, settled, settles: () => count };
}

describe("Http1Pool", () => {
  it("settles every request once when the server answers each request twice (an unsolicited response)", async () => {
    const port = await answeringServer(2);
    const pool = new Http1Pool({ host: "127.0.0.1", port, connections: 2, request: Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "latin1"), sweepMs: 20 });
    cleanups.push(async () => pool.destroy());
    const deadlineMs = performance.now() + 1000;
    const first = track(deadlineMs);
    pool.dispatch(first.request);
    await first.settled;
    await new Promise((resolve) => setTimeout(resolve, 50)); // the second answer arrives
    const rest = Array.from({ length: 5 }, () => track(deadlineMs));
    for (const t of rest) pool.dispatch(t.request);
    // Past the deadline plus sweeps, every request must have settled (answered or failed).
    const all = [first, ...rest];
    const outcomes = await Promise.race([
      Promise.all(all.map((t) => t.settled)),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 2000)),
    ]);
    expect(all.filter((t) => t.settles() > 0)).toHaveLength(6);
    expect(outcomes).not.toBeNull();
    for (const t of all) expect(t.settles()).toBe(1);
    // No request may be settled by another one's answer twice over; each got an answer or a transport error.
    for (const outcome of outcomes!) expect(["200", "connection"]).toContain(outcome);
    expect(pool.pending()).toBe(0);
  });

  it("serves a well-behaved keep-alive server on one connection", async () => {
    const port = await answeringServer(1);
    const pool = new Http1Pool({ host: "127.0.0.1", port, connections: 1, request: Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "latin1"), sweepMs: 20 });
    cleanups.push(async () => pool.destroy());
    const all = Array.from({ length: 5 }, () => track(performance.now() + 2000));
    for (const t of all) pool.dispatch(t.request);
    expect(await Promise.all(all.map((t) => t.settled))).toEqual(["200", "200", "200", "200", "200"]);
    for (const t of all) expect(t.settles()).toBe(1);
  });
});
