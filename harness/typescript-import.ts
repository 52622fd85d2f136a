// Imports a module given by path that may be TypeScript (the conformance registry, suites/*.ts,
// or a test's fake registry). Under tsx that just works; the compiled command line (dist/) has
// no TypeScript loader until it registers tsx's, which it does only when such a module is asked for.
import { pathToFileURL } from "node:url";
import { RUNNING_COMPILED } from "./project-root.ts";

const TYPESCRIPT_FILE = /\.[cm]?tsx?$/;
let registered: Promise<unknown> | null = null;

export async function importMaybeTypeScript(path: string): Promise<unknown> {
  if (RUNNING_COMPILED && TYPESCRIPT_FILE.test(path)) {
    registered ??= import("tsx/esm/api").then(({ register }) => register());
    await registered;
  }
  return import(pathToFileURL(path).href);
}
