// tritonclient (HTTP and gRPC) against both reference primaries, directly and through Envoy
// and Caddy: what bench/tritonclient-crosscheck.ts prints, asserted. Six pods on the local
// runtime (two of them Triton), one client process.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { OutputRow } from "./output-agreement.ts";
import { collectOutputs, crosscheckTable } from "./tritonclient-crosscheck.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const tritonInstalled = existsSync(join(root, ".venv-triton"));

describe.skipIf(!tritonInstalled)("tritonclient's answers from both primaries, direct and through each proxy", () => {
  let rows: OutputRow[];

  beforeAll(async () => {
    rows = await collectOutputs({ scenarioFile: join(root, "scenarios", "large-tensor.yaml"), primaries: ["fastapi", "triton"], runId: `tritonclient-test-${process.pid}` });
  }, 240_000);

  it("gets every case answered directly by both primaries, the same answers within the tolerance", () => {
    const { problems, markdown } = crosscheckTable(rows);
    expect(problems, markdown).toEqual([]);
    const cases = new Set(rows.map((r) => r.case));
    expect(cases.size).toBe(7);
    for (const primary of ["fastapi", "triton"]) {
      expect(rows.filter((r) => r.target === `${primary}/baseline` && r.ok)).toHaveLength(7);
    }
  });

  it("gets Envoy's answers byte for byte the direct ones, over HTTP and gRPC", () => {
    const { markdown } = crosscheckTable(rows);
    for (const primary of ["fastapi", "triton"]) {
      for (const row of rows.filter((r) => r.target === `${primary}/envoy`)) {
        const direct = rows.find((r) => r.target === `${primary}/baseline` && r.case === row.case)!;
        expect(row.ok, `${row.target} ${row.case}: ${row.error}\n${markdown}`).toBe(true);
        expect(row.sha256, `${row.target} ${row.case}`).toBe(direct.sha256);
      }
    }
  });

  it("gets Caddy's HTTP answers byte for byte, and no gRPC answer (it proxies HTTP/1.1 here)", () => {
    for (const primary of ["fastapi", "triton"]) {
      const caddy = rows.filter((r) => r.target === `${primary}/caddy`);
      for (const row of caddy.filter((r) => r.protocol !== "grpc")) {
        const direct = rows.find((r) => r.target === `${primary}/baseline` && r.case === row.case)!;
        expect(row.sha256, `${row.target} ${row.case}: ${row.error}`).toBe(direct.sha256);
      }
      for (const row of caddy.filter((r) => r.protocol === "grpc")) expect(row.ok, `${row.target} ${row.case}`).toBe(false);
    }
  });
});
