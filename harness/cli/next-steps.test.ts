import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nextSteps } from "./next-steps.ts";

const dir = mkdtempSync(join(tmpdir(), "sb-next-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("nextSteps", () => {
  it("points at report.md until there is a report.html, then at the HTML report", () => {
    expect(nextSteps("run", dir)[0]).toBe(`next: read ${dir}/report.md`);
    writeFileSync(join(dir, "report.html"), "<html></html>");
    const lines = nextSteps("run", dir);
    expect(lines[0]).toBe(`next: open ${dir}/report.html in a browser`);
    expect(lines[1]).toContain(`sidecar-bench diff ${dir}/results.json <a later run>/results.json`);
    expect(lines).toHaveLength(2);
  });

  it("suggests diffing certificates after certify", () => {
    expect(nextSteps("certify", dir).join("\n")).toContain(`sidecar-bench diff ${dir}/conformance.json <new>/conformance.json`);
  });
});
