// A path as the user would type it from the working directory: relative when below it, else
// absolute (a default scenario found from /tmp reads /…/scenarios/default.yaml, not ../../…).
import { relative } from "node:path";

export function shownPath(path: string, cwd: string = process.cwd()): string {
  const fromHere = relative(cwd, path);
  return fromHere === "" ? "." : fromHere.startsWith("..") ? path : fromHere;
}
