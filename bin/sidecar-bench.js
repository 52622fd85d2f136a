#!/usr/bin/env node
// Entry point: the harness is TypeScript, loaded through tsx (esbuild) so there is no
// build step between editing a scenario check and running it.
import { register } from "tsx/esm/api";

register();
await import("../harness/cli/main.ts");
