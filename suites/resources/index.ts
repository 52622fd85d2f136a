// The resources profile: what a sidecar costs every pod it joins. Stable order: idle,
// under load, over a soak.
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { cpuPer1kRps } from "./cpu-per-1k-rps.ts";
import { idleMemory } from "./idle-memory.ts";
import { memorySoakBounded } from "./memory-soak-bounded.ts";

export const resourcesTests: ConformanceTest[] = [idleMemory, cpuPer1kRps, memorySoakBounded];
