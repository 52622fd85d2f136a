import { describe, expect, it } from "vitest";
import { assertLoadTarget, isLoopbackHost } from "./target-guard.ts";

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
