import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jsonSchemaFileName, manifestJsonSchema, manifestJsonSchemaText, writeJsonSchemas } from "./json-schemas.ts";
import type { ManifestKind } from "./load-manifest.ts";

const KINDS: ManifestKind[] = ["Sidecar", "Primary", "Scenario", "CertificationPolicy"];
const committed = (kind: ManifestKind) => new URL(`../../schemas/${jsonSchemaFileName(kind)}`, import.meta.url);

type Json = Record<string, any>;

describe("JSON Schemas", () => {
  it.each(KINDS)("the committed %s schema matches the zod schema (regenerate with `npm run schemas`)", async (kind) => {
    expect(await readFile(committed(kind), "utf8")).toBe(manifestJsonSchemaText(kind));
  });

  it("writes one file per kind", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sidecar-bench-schemas-"));
    try {
      const written = await writeJsonSchemas(join(dir, "out"));
      expect(written).toEqual(KINDS.map((kind) => join(dir, "out", jsonSchemaFileName(kind))));
      expect((await readdir(join(dir, "out"))).sort()).toEqual(["certification-policy.schema.json", "primary.schema.json", "scenario.schema.json", "sidecar.schema.json"]);
      expect(JSON.parse(await readFile(written[0]!, "utf8"))).toEqual(manifestJsonSchema("Sidecar"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("describes what an author writes: strict objects, defaults optional, exactly one probe action", () => {
    const sidecar = manifestJsonSchema("Sidecar") as Json;
    expect(sidecar["$schema"]).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(sidecar["additionalProperties"]).toBe(false);
    expect(sidecar["properties"].kind).toEqual({ type: "string", const: "Sidecar" });
    const spec = sidecar["properties"].spec;
    expect(spec.required).toEqual(["roles", "container", "ports"]);
    expect(spec.properties.startupTimeoutMs.default).toBe(30_000);
    expect(spec.properties.roles.uniqueItems).toBe(true);
    const startup = spec.properties.probes.properties.startup;
    expect(startup.additionalProperties).toBe(false);
    expect(startup.oneOf).toEqual([{ required: ["http"] }, { required: ["tcp"] }, { required: ["exec"] }]);
    expect(startup.properties.periodMs.default).toBe(100);
    expect(spec.properties.probes.properties.readiness.properties.periodMs.default).toBe(500);

    const scenario = (manifestJsonSchema("Scenario") as Json)["properties"].spec;
    expect(scenario.required).toEqual(["primary", "variants", "workload"]);
    expect(scenario.properties.workload.properties.load.oneOf.map((variant: Json) => variant.properties.mode.const)).toEqual(["open", "closed", "vegeta"]);
    expect(scenario.properties.variants.items.properties.name.not).toEqual({ const: "baseline" });
  });
});
