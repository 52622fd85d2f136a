// Which checks a faulty fixture runs in the fixture suite: its own test (whatever its
// level), the other core tests of its profile, and the lifecycle core tests (every
// sidecar's). Measured on 2 cores with every core test of all the fixture's profiles,
// the suite took 15.4 min — faulty fixtures make pods slow to start (slow-start) or to
// stop (ignore-sigterm waits out each grace period) — so cross-profile collateral
// outside lifecycle (a proxy fault breaking a resources check) is left to the
// good-proxy run and to certify itself. Extended tests other than the fixture's own
// assert nothing here and never run.
import type { SidecarManifest } from "../scenario/index.ts";
import type { ConformanceTest } from "./conformance-test.ts";
import { selectTests } from "./select-tests.ts";

export function fixturePlan(target: ConformanceTest, registry: readonly ConformanceTest[], fixture: SidecarManifest): ConformanceTest[] {
  const selection = selectTests({ registry, sidecar: fixture });
  if (!selection.profiles.includes(target.profile)) {
    throw new Error(
      `${target.faultyFixture} (faulty fixture of ${target.id}) declares roles ${fixture.spec.roles.join(", ")}, ` +
        `so the ${target.profile} profile does not apply to it; add the role to its spec.roles`,
    );
  }
  const profiles = new Set([target.profile, "lifecycle"]);
  return selection.tests.filter((t) => t.id === target.id || (t.level === "core" && profiles.has(t.profile)));
}
