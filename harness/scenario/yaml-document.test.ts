import { describe, expect, it } from "vitest";
import { parseYaml } from "./yaml-document.ts";

describe("parseYaml", () => {
  it("rejects duplicate keys (yaml's uniqueKeys), nested ones included, with path and first line", () => {
    const { problems, data } = parseYaml("a: 1\nb:\n  - c: 2\n    c: 3\na: 4\n");
    expect(problems).toEqual([
      { path: "b[0].c", position: { line: 4, column: 5 }, message: 'duplicate key "c" (first defined at line 3)' },
      { path: "a", position: { line: 5, column: 1 }, message: 'duplicate key "a" (first defined at line 1)' },
    ]);
    // Data is still produced so schema issues can be reported alongside.
    expect(data).toBeDefined();
  });

  it("gives up on data after a syntax error but keeps line and column", () => {
    const { problems, data } = parseYaml("a: [1, 2\nb: 3\n");
    expect(data).toBeUndefined();
    expect(problems[0]).toMatchObject({ path: "", position: { line: 2, column: 1 }, message: expect.stringMatching(/^YAML syntax error: /) });
  });

  it("rejects several documents in one file and unresolved tags", () => {
    expect(parseYaml("a: 1\n---\nb: 2\n").problems[0]).toMatchObject({ position: { line: 2, column: 1 }, message: expect.stringContaining("multiple documents") });
    expect(parseYaml("a: !!int one\n").problems[0]).toMatchObject({ position: { line: 1, column: 4 }, message: expect.stringContaining("Unresolved tag") });
  });

  it("reads YAML 1.2 core: yes/on stay strings, 1_000 is no number", () => {
    expect(parseYaml("a: yes\nb: on\nc: 1_000\nd: 0x10\n").data).toEqual({ a: "yes", b: "on", c: "1_000", d: 16 });
  });

  it("locates values, keys, list items and missing fields", () => {
    const { locate } = parseYaml("spec:\n  ports: { http: 8000 }\n  list:\n    - x\n    - y\n");
    expect(locate(["spec", "ports", "http"])).toEqual({ line: 2, column: 18 });
    expect(locate(["spec", "ports", "http"], "key")).toEqual({ line: 2, column: 12 });
    expect(locate(["spec", "list", 1])).toEqual({ line: 5, column: 7 });
    expect(locate(["spec", "ports", "grpc"])).toEqual({ line: 2, column: 3 });
    expect(locate(["spec", "missing", "deeper"])).toEqual({ line: 1, column: 1 });
    expect(locate([])).toEqual({ line: 1, column: 1 });
  });

  it("follows aliases when locating", () => {
    const { locate, data } = parseYaml("base: &b { port: 1 }\nother: *b\n");
    expect(data).toEqual({ base: { port: 1 }, other: { port: 1 } });
    expect(locate(["other", "port"])).toEqual({ line: 1, column: 18 });
  });
});
