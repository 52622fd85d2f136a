// The resources checks against real pods (local runtime, the reference primary): each
// passes on Envoy (suite policy) and on good-proxy, and fails on its faulty fixture
// (fixture policy, reference/policies/fixture-sidecars.yaml) with a message that names
// the problem.
import { describe } from "vitest";
import { describeCheckOnRealPods, describeRegistry } from "../support/check-expectations.ts";
import { cpuPer1kRps } from "./cpu-per-1k-rps.ts";
import { idleMemory } from "./idle-memory.ts";
import { resourcesTests } from "./index.ts";
import { memorySoakBounded } from "./memory-soak-bounded.ts";

describe("resources registry", () => {
  describeRegistry("resources", resourcesTests, ["resources.idle-memory", "resources.cpu-per-1k-rps", "resources.memory-soak-bounded"]);
});

describeCheckOnRealPods(idleMemory, /idle memory ≤ the policy's 128 MiB; measured \d+/);
describeCheckOnRealPods(cpuPer1kRps, /≤ the policy's 2 vCPU per 1000 req\/s; measured \d/);
describeCheckOnRealPods(memorySoakBounded, /memory to grow by ≤ the policy's 16 MiB over the soak; it grew \d+/);
