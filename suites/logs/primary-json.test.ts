// The primary's encoding, re-done in TypeScript: equal to what orjson writes for every
// string the checks send (the same escapes as JSON.stringify), numbers kept as written.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/real-pod-check.ts";
import { encodeLikePrimary, integerMember, JsonSyntaxError, member, parseKeepingNumbers, stringMember } from "./primary-json.ts";
import { UNICODE_CASES } from "./long-and-unicode-lines.ts";

const PYTHON = join(REPO_ROOT, ".venv", "bin", "python");

describe("parseKeepingNumbers and encodeLikePrimary", () => {
  it("round-trip a compact line exactly, numbers as written", () => {
    const line = '{"run":"r","ts":"2026-01-01T00:00:00.000001+00:00","seq":12,"duration_ms":12.0,"x":1e-7,"neg":-0.5,"ok":true,"n":null,"a":[1,"b",{}]}';
    const tree = parseKeepingNumbers(line);
    expect(encodeLikePrimary(tree)).toBe(line);
    expect(integerMember(tree, "seq")).toBe(12);
    expect(integerMember(tree, "duration_ms")).toBeUndefined();
    expect(member(tree, "duration_ms")).toEqual({ number: "12.0" });
    expect(stringMember(tree, "ts")).toBe("2026-01-01T00:00:00.000001+00:00");
  });

  it("show a re-formatted line: whitespace, escaped non-ASCII, an escaped slash", () => {
    for (const reformatted of ['{"a": 1}', '{"a":"\\u00e9"}', '{"a":"\\/"}', '{ "a":1 }']) {
      expect(encodeLikePrimary(parseKeepingNumbers(reformatted))).not.toBe(reformatted);
    }
  });

  it("reject what is not one JSON value, saying where", () => {
    for (const bad of ['{"a":1', '{"a":"x', '{"a":1}{"b":2}', '{"a":"tab\there"}', "xyz", '{"a":01}', ""]) {
      expect(() => parseKeepingNumbers(bad), bad).toThrow(JsonSyntaxError);
    }
    expect(() => parseKeepingNumbers('{"a":1} x')).toThrow(/offset 8/);
  });

  it.skipIf(!existsSync(PYTHON))("encode every case of the unicode check exactly as the primary's orjson does", () => {
    const cases = [...UNICODE_CASES, "".padEnd(40, "\u0007"), String.fromCharCode(...Array.from({ length: 0x20 }, (_, i) => i))];
    const script = "import sys, orjson\nfor s in orjson.loads(sys.stdin.buffer.read()):\n    sys.stdout.buffer.write(orjson.dumps({'msg': s}) + b'\\n')\n";
    const out = execFileSync(PYTHON, ["-c", script], { input: JSON.stringify(cases) }).toString("utf8").split("\n").slice(0, -1);
    expect(out).toEqual(cases.map((msg) => encodeLikePrimary({ object: [["msg", msg]] })));
  });
});
