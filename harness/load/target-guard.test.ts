import { describe, expect, it } from "vitest";
import { admitPodAddress, assertLoadTarget, isLoopbackHost, isOwnPodAddress } from "./target-guard.ts";

describe("assertLoadTarget", () => {
  it.each([
    "http://127.0.0.1:8080",
    "http://127.9.8.7/",
    "http://localhost:1",
    "http://[::1]:8080",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]:80",
    "http://2130706433/", // the URL parser normalises this to 127.0.0.1
    "https://127.0.0.1",
  ])("accepts loopback %s", (url) => {
    expect(() => assertLoadTarget(url)).not.toThrow();
  });

  it.each([
    "http://10.0.0.1:8080",
    "http://192.168.1.1",
    "http://0.0.0.0:80",
    "http://example.com",
    "http://127.0.0.1.nip.io",
    "http://[::2]",
    "http://[::ffff:10.0.0.1]",
    "http://localhost.example.com",
  ])("refuses %s", (url) => {
    expect(() => assertLoadTarget(url)).toThrow(/refusing to send load.*allowRemote: true/);
  });

  it("lets an explicit allowRemote through", () => {
    expect(assertLoadTarget("http://10.0.0.1:8080", true).origin).toBe("http://10.0.0.1:8080");
  });

  it("rejects non-HTTP and unparsable URLs", () => {
    expect(() => assertLoadTarget("ftp://127.0.0.1")).toThrow(/http: or https:/);
    expect(() => assertLoadTarget("127.0.0.1:80/x")).toThrow();
    expect(() => assertLoadTarget("not a url")).toThrow(/not a valid URL/);
  });

  it("classifies hosts", () => {
    expect(isLoopbackHost("[::1]")).toBe(true);
    expect(isLoopbackHost("128.0.0.1")).toBe(false);
  });
});

// Addresses from the documentation ranges (RFC 5737, RFC 3849): never a real pod's.
describe("pod addresses this process created", () => {
  it("are load targets from admission until withdrawal", () => {
    expect(() => assertLoadTarget("http://192.0.2.10:8080")).toThrow(/refusing to send load to 192.0.2.10/);
    const withdraw = admitPodAddress("192.0.2.10");
    expect(isOwnPodAddress("192.0.2.10")).toBe(true);
    expect(assertLoadTarget("http://192.0.2.10:8080").origin).toBe("http://192.0.2.10:8080");
    // Only that address: not its neighbours, not the same host by another name.
    expect(() => assertLoadTarget("http://192.0.2.11:8080")).toThrow(/refusing/);
    withdraw();
    expect(isOwnPodAddress("192.0.2.10")).toBe(false);
    expect(() => assertLoadTarget("http://192.0.2.10:8080")).toThrow(/refusing/);
  });

  it("are counted: an address a new pod reuses stays admitted until both pods withdraw it", () => {
    const first = admitPodAddress("192.0.2.20");
    const second = admitPodAddress("192.0.2.20");
    first();
    expect(isOwnPodAddress("192.0.2.20")).toBe(true);
    second();
    expect(isOwnPodAddress("192.0.2.20")).toBe(false);
  });

  it("a withdrawal counts once, however often it is called", () => {
    const first = admitPodAddress("192.0.2.30");
    const second = admitPodAddress("192.0.2.30");
    first();
    first();
    expect(isOwnPodAddress("192.0.2.30")).toBe(true);
    second();
    expect(isOwnPodAddress("192.0.2.30")).toBe(false);
  });

  it("IPv6 pod addresses, as URLs write them (in brackets)", () => {
    const withdraw = admitPodAddress("2001:db8::5");
    expect(isOwnPodAddress("[2001:db8::5]")).toBe(true);
    expect(assertLoadTarget("http://[2001:db8::5]:80/").hostname).toBe("[2001:db8::5]");
    withdraw();
    expect(() => assertLoadTarget("http://[2001:db8::5]:80/")).toThrow(/refusing/);
  });
});
