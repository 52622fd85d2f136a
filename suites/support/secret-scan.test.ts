import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { randomSecret } from "../../harness/scenario/role-wiring.ts";
import { LeakMatcher, MIN_LEAK_CHARS, findSecretIn, secretForms } from "./secret-scan.ts";
import { MAX_ROTATIONS_PER_CHECK, SEEDED_LABEL, rotatedSecret, secretFamily } from "./secret-values.ts";

const value = "Zm9vYmFyLWJhei1xdXV4LTEyMzQ1Njc4OTAtYWJjZGVm"; // 44 base64url-ish characters
const matcher = new LeakMatcher([{ label: "the seeded secret", value }]);

describe("secretForms", () => {
  it("lists the value raw, hex and base64 at every alignment, without duplicates", () => {
    const forms = secretForms(value);
    const names = forms.map((f) => f.form);
    expect(names).toContain("raw");
    expect(names).toContain("hex");
    expect(names).toContain("base64");
    expect(names).toContain("base64 (in a longer blob, offset 2)");
    // Escaping changes nothing for this value: those forms are the raw one, listed once.
    expect(names).not.toContain("json-escaped");
    expect(new Set(forms.map((f) => f.text)).size).toBe(forms.length);
  });

  it("adds the escaped forms when they differ", () => {
    const names = secretForms('a/b+c=d&e"f<g>h ijklmnop').map((f) => f.form);
    expect(names).toEqual(expect.arrayContaining(["url-encoded", "json-escaped", "html-escaped"]));
  });
});

describe("LeakMatcher", () => {
  it("finds the value raw inside a JSON log line, with line and column", () => {
    const lines = ['{"event":"started"}', `{"event":"fetched","value":"${value}"}`];
    expect(matcher.scanLines(lines)).toEqual([{ line: 2, column: 29, secret: "the seeded secret", form: "raw" }]);
  });

  it("finds a fragment of MIN_LEAK_CHARS, not a shorter prefix", () => {
    expect(matcher.scanLines([`key=${value.slice(5, 5 + MIN_LEAK_CHARS)}`])).toHaveLength(1);
    expect(matcher.scanLines([`key=${value.slice(0, 8)}…`])).toEqual([]);
  });

  it("finds the value base64-encoded alone and inside a longer encoded blob, at each alignment", () => {
    for (const prefix of ["", "x", "xy", "xyz", '{"data":{"api_key":"']) {
      const blob = Buffer.from(`${prefix}${value}"}}`).toString("base64");
      const [leak] = matcher.scanLines([`response body ${blob}`]);
      expect(leak?.form, `prefix ${JSON.stringify(prefix)}`).toMatch(/^base64/);
      const url = Buffer.from(`${prefix}${value}`).toString("base64url");
      expect(matcher.scanLines([url]), `base64url, prefix ${JSON.stringify(prefix)}`).toHaveLength(1);
    }
  });

  it("finds the hex and URL-encoded forms", () => {
    expect(matcher.scanLines([Buffer.from(value).toString("hex")])[0]?.form).toBe("hex");
    const odd = new LeakMatcher([{ label: "s", value: "p@ss/w0rd+with=chars&more" }]);
    expect(odd.scanLines([`GET /login?key=${encodeURIComponent("p@ss/w0rd+with=chars&more")}`])[0]?.form).toBe("url-encoded");
  });

  it("finds nothing in unrelated lines, other random secrets, nor the value's sha256", async () => {
    const { createHash } = await import("node:crypto");
    const lines = [
      '{"event":"written","version":2,"bytes":44}',
      randomSecret(),
      createHash("sha256").update(value).digest("hex"),
      Buffer.from(randomSecret()).toString("base64"),
    ];
    expect(matcher.scanLines(lines)).toEqual([]);
  });

  it("matches a short secret whole", () => {
    const short = new LeakMatcher([{ label: "short", value: "hunter2" }]);
    expect(short.scanLines(["password is hunter2", "hunter"])).toEqual([{ line: 1, column: 13, secret: "short", form: "raw" }]);
  });

  it("redacts every leaked run and keeps the rest of the line", () => {
    const line = `a ${value} b ${Buffer.from(value).toString("base64")} c`;
    const redacted = matcher.redact(line);
    expect(redacted).toMatch(/^a \[redacted: the seeded secret, raw\] b \[redacted: the seeded secret, base64\]/);
    expect(redacted).toMatch(/ c$/);
    expect(matcher.scanLines([redacted])).toEqual([]);
    expect(redacted).not.toContain(value.slice(0, MIN_LEAK_CHARS));
  });

  it("redacts deep inside evidence objects", () => {
    const evidence = { sidecarLog: [`value=${value}`], nested: { [value]: value, n: 3 } };
    const redacted = matcher.redactDeep(evidence);
    expect(JSON.stringify(redacted)).not.toContain(value.slice(0, MIN_LEAK_CHARS));
    expect(redacted.nested.n).toBe(3);
  });

  it("refuses an empty secret (a scan for nothing would pass everything)", () => {
    expect(() => new LeakMatcher([{ label: "empty", value: "" }])).toThrow(/empty/);
  });
});

describe("secretFamily", () => {
  it("derives distinct, stable rotations from the seed, all found by the scan", () => {
    const seed = randomSecret();
    const family = secretFamily(seed);
    expect(family).toHaveLength(1 + MAX_ROTATIONS_PER_CHECK);
    expect(family[0]).toEqual({ label: SEEDED_LABEL, value: seed });
    expect(new Set(family.map((s) => s.value)).size).toBe(family.length);
    expect(rotatedSecret(seed, 2)).toBe(family[2]!.value);
    expect(rotatedSecret(seed, 1)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(() => rotatedSecret(seed, MAX_ROTATIONS_PER_CHECK + 1)).toThrow(/rotatedSecret/);
  });
});

describe("findSecretIn", () => {
  const dir = mkdtempSync(join(tmpdir(), "sb-secret-scan-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("names file, line and form of every leak under the paths given, never the value", () => {
    const seed = randomSecret();
    const family = secretFamily(seed);
    mkdirSync(join(dir, "pods"), { recursive: true });
    writeFileSync(join(dir, "certificate.yaml"), "result: success\nchecks: 14\n");
    writeFileSync(join(dir, "report.json"), `{\n  "message": "ok",\n  "evidence": "${family[2]!.value}"\n}\n`);
    writeFileSync(join(dir, "pods", "agent.log"), `started\n${Buffer.from(`x${seed}`).toString("base64")}\n`);
    const leaks = findSecretIn([dir], family);
    expect(leaks).toEqual([
      { file: join(dir, "report.json"), line: 3, column: 16, secret: "rotation 2", form: "raw" },
      // After the first 4 characters, which the byte before the value shares.
      { file: join(dir, "pods", "agent.log"), line: 2, column: 5, secret: SEEDED_LABEL, form: "base64 (in a longer blob, offset 2)" },
    ]);
    expect(JSON.stringify(leaks)).not.toContain(seed.slice(0, MIN_LEAK_CHARS));
    expect(findSecretIn([join(dir, "certificate.yaml")], family)).toEqual([]);
    expect(findSecretIn([dir], [])).toEqual([]);
  });
});
