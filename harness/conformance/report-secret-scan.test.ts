import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rotatedSecret } from "../../suites/support/secret-values.ts";
import { checkSecret } from "./check-secrets.ts";
import { existsSync } from "node:fs";
import { leakedCheckSecrets, removeLeakingReports } from "./report-secret-scan.ts";

const SEED = "a-certification-seed";

function outDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "sb-report-scan-"));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(dir, file, ".."), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

describe("the scan of what certify wrote", () => {
  it("finds a check's secret and its rotations in the reports, naming file, line, check and form", () => {
    const seeded = checkSecret(SEED, "secrets.never-logged");
    const dir = outDir({
      "conformance.yaml": `a: 1\nevidence: "${seeded}"\n`,
      "performance/report.md": `rotated ${Buffer.from(rotatedSecret(seeded, 2)).toString("base64")}\n`,
    });
    const leaks = leakedCheckSecrets(dir, SEED, ["secrets.never-logged", "proxy.json-identical"]);
    expect(leaks).toHaveLength(2);
    expect(leaks[0]).toMatch(/^conformance\.yaml:2:\d+: secrets\.never-logged: the seeded secret \(raw\)/);
    expect(leaks[1]).toMatch(/^performance\/report\.md:1:\d+: secrets\.never-logged: rotation 2 \(base64/);
    for (const leak of leaks) expect(leak).not.toContain(seeded);
  });

  it("leaves the pods' folder (containers' logs, volumes) to the checks, and passes clean reports", () => {
    const seeded = checkSecret(SEED, "secrets.present-before-primary");
    const dir = outDir({ "pods/p/volumes/secrets/api-key": seeded, "conformance.yaml": "result: success\n" });
    expect(leakedCheckSecrets(dir, SEED, ["secrets.present-before-primary"])).toEqual([]);
    // Another seed's secrets are other values.
    expect(leakedCheckSecrets(outDir({ "x.json": checkSecret("other", "secrets.present-before-primary") }), SEED, ["secrets.present-before-primary"])).toEqual([]);
  });

  it("removes a report that holds a secret, or the seed itself, and keeps the clean ones", () => {
    const dir = outDir({ "conformance.json": `{"seed": "${SEED}"}`, "junit.xml": "<testsuites/>\n" });
    const removed = removeLeakingReports(dir, SEED, ["secrets.never-logged"]);
    expect(removed).toEqual([expect.stringMatching(/^conformance\.json:1:\d+ held the certification's seed \(raw\); the file is removed$/)]);
    expect(existsSync(join(dir, "conformance.json"))).toBe(false);
    expect(existsSync(join(dir, "junit.xml"))).toBe(true);
  });
});
