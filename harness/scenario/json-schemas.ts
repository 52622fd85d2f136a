// JSON Schema for editors (yaml-language-server, VS Code): generated from the zod
// schemas so the two never disagree; a test keeps the committed files current.
import { rename, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { MANIFEST_SCHEMAS, type ManifestKind } from "./load-manifest.ts";

/** File name of each kind's schema in kebab case, e.g. `sidecar.schema.json`, `certification-policy.schema.json`. */
export function jsonSchemaFileName(kind: ManifestKind): string {
  return `${kind.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase()}.schema.json`;
}

/** The JSON Schema of one manifest kind, describing what a user may write (defaults optional). */
export function manifestJsonSchema(kind: ManifestKind): Record<string, unknown> {
  // "input": fields with defaults are optional for the author; refinements have no JSON form.
  return z.toJSONSchema(MANIFEST_SCHEMAS[kind], { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as Record<string, unknown>;
}

/** The exact text written for a kind, so tests can compare byte for byte. */
export function manifestJsonSchemaText(kind: ManifestKind): string {
  return `${JSON.stringify(manifestJsonSchema(kind), null, 2)}\n`;
}

/** Writes one schema file per kind into `dir` (atomically: temp file + rename); returns the paths. */
export async function writeJsonSchemas(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const kind of Object.keys(MANIFEST_SCHEMAS) as ManifestKind[]) {
    const target = join(dir, jsonSchemaFileName(kind));
    const temp = `${target}.${process.pid}.tmp`;
    await writeFile(temp, manifestJsonSchemaText(kind));
    await rename(temp, target);
    written.push(target);
  }
  return written;
}
