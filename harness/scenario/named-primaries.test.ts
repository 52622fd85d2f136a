import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NAMED_PRIMARIES, PRIMARY_NAMES, resolvePrimaryChoice } from "./named-primaries.ts";
import { loadManifest } from "./load-manifest.ts";

const root = resolve(import.meta.dirname, "..", "..");
const dir = await mkdtemp(join(tmpdir(), "sidecar-bench-primary-choice-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("resolvePrimaryChoice (--primary)", () => {
  it("names every reference primary, each a Primary manifest that loads", async () => {
    expect(PRIMARY_NAMES).toEqual(["fastapi", "triton"]);
    for (const name of PRIMARY_NAMES) {
      const choice = resolvePrimaryChoice(name, root);
      expect(choice).toEqual({ file: join(root, NAMED_PRIMARIES[name]) });
      const loaded = await loadManifest((choice as { file: string }).file, "Primary");
      expect(loaded.manifest.spec.model.name).toBe("mlp");
    }
  });

  it("takes a manifest path relative to the working directory", async () => {
    await writeFile(join(dir, "mine.yaml"), "kind: Primary\n");
    expect(resolvePrimaryChoice("mine.yaml", root, dir)).toEqual({ file: join(dir, "mine.yaml") });
    expect(resolvePrimaryChoice(join(dir, "mine.yaml"), root, "/")).toEqual({ file: join(dir, "mine.yaml") });
  });

  it("names the valid values when the value is neither", () => {
    const choice = resolvePrimaryChoice("tirton", root, dir);
    expect(choice).toEqual({ problem: expect.stringContaining("fastapi, triton") });
    expect((choice as { problem: string }).problem).toContain('"tirton"');
  });
});
