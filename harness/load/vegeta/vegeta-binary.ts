// Where vegeta is and which version: scripts/setup.mjs builds it into .venv/bin (the
// project's tools, first on the command path the runtime gives), from the version pinned
// in harness/load/vegeta/tool/go.mod.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { runVegeta, VegetaError } from "./vegeta-process.ts";

export const VEGETA_SETUP_HINT = "run: npm run setup (or node scripts/setup.mjs), which builds it into .venv/bin";

/** The first executable `vegeta` on `commandPath` (a PATH-style list). */
export function findVegeta(commandPath: string): string {
  const dirs = commandPath.split(delimiter).filter((dir) => dir !== "");
  for (const dir of dirs) {
    const candidate = join(dir, "vegeta");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new VegetaError(`load mode vegeta: the vegeta binary was not found (looked in ${dirs.length > 0 ? dirs.slice(0, 3).join(", ") : "an empty PATH"}${dirs.length > 3 ? ", …" : ""}); ${VEGETA_SETUP_HINT}`);
}

/** "v12.13.0" from `vegeta -version`; null when the binary was built without a version stamp. */
export async function vegetaVersion(binary: string): Promise<string | null> {
  const output = await runVegeta({ binary, args: ["-version"], deadlineMs: 10_000 });
  const version = /^Version:[ \t]*(\S+)/m.exec(output)?.[1];
  return version ?? null;
}
