// `--primary <name|file>`: the reference primaries by name, or any Primary manifest. Both
// `run` (replacing the scenario's spec.primary) and `certify` (the pod the sidecar joins)
// take it, so a scenario or a certificate can be repeated against another model server.
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";

/** Project-relative manifests of the reference primaries. */
export const NAMED_PRIMARIES = {
  fastapi: "reference/primaries/fastapi-kserve/primary.yaml",
  triton: "reference/primaries/triton/primary.yaml",
} as const;

export type PrimaryName = keyof typeof NAMED_PRIMARIES;
export const PRIMARY_NAMES = Object.keys(NAMED_PRIMARIES) as PrimaryName[];

/**
 * The absolute manifest path for a --primary value: a reference primary's name, else a path
 * (relative to the working directory) to a Primary manifest. A problem to report when neither.
 */
export function resolvePrimaryChoice(value: string, projectRoot: string, cwd = process.cwd()): { file: string } | { problem: string } {
  if (Object.hasOwn(NAMED_PRIMARIES, value)) return { file: resolve(projectRoot, NAMED_PRIMARIES[value as PrimaryName]) };
  const file = isAbsolute(value) ? value : resolve(cwd, value);
  if (existsSync(file)) return { file };
  return { problem: `expected a reference primary (${PRIMARY_NAMES.join(", ")}) or a Primary manifest file; ${JSON.stringify(value)} is neither` };
}
