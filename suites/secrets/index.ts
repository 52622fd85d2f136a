// The secrets profile: checks every sidecar with the secrets role must pass (docs: README, "What each check tries").
// Anchor: Vault Agent's injector contract — the key in place before the app starts,
// rotations delivered without a restart, a declared behaviour when the store is gone, and
// the value in no log.
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { neverLogged } from "./never-logged.ts";
import { presentBeforePrimary } from "./present-before-primary.ts";
import { rotationReachesPrimary } from "./rotation-reaches-primary.ts";
import { storeOutageDeclared } from "./store-outage-declared.ts";

export const secretsTests: ConformanceTest[] = [presentBeforePrimary, rotationReachesPrimary, storeOutageDeclared, neverLogged];
