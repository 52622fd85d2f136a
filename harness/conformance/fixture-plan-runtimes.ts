// Which faulty fixtures the fixture suite proves on each runtime. Local: every one (the
// rule "a check that cannot fail is a defect" is proven there, 8 min on 2 cores).
// Docker: one per mechanism the docker runtime implements differently — signals through
// the engine and the container's init (ignore-sigterm), restarts as new engine
// containers (slow-restart), readiness through the pod's published ports (early-admin),
// bytes through the pod's published ports and its NAT (buffer-stream: streaming;
// connection-limit: concurrent keep-alive connections), and accounting from the
// containers' cgroups (fat-idle: memory; cpu-burner: CPU) — so that CI stays well under its time budget while each
// profile (lifecycle, proxy, resources) is proven to fail on docker too. Measured on 2
// cores: these 7 and good-proxy took 6.1 min on docker; a docker certification costs
// 1.0–1.5× a local one (a pause container and one engine container per pod container),
// so all 20 would add some 12 min. bench/runtime-parity.ts certifies every fixture on both.
// Kubernetes: one per mechanism the kubelet owns there — readiness as the API reports it
// (ready-late), restarts by the kubelet (slow-restart), the grace period and SIGKILL
// (ignore-sigterm), the termination order of native sidecars (quits-early), time to
// ready counted from the kubelet's start (slow-start), bytes over the pod network through
// the NAT init container (buffer-stream), and accounting from the node's cgroups
// (fat-idle) — each against its own check only: a pod on the cluster takes ~5 s to start
// and ~3 s to stop (whole-second probes, the kubelet's relist), so collateral checks are
// left to good-proxy's full run there and to bench/runtime-parity.ts.
// The telemetry, logs and secrets profiles: on local their faulty fixtures are proven by
// each role's own suite (suites/<role>/<role>.test.ts: every check of the profile fails on
// its faulty fixture with the failure named, and passes on the role's good fixture), so
// the fixture suite does not run them a second time; on docker and kubernetes one fixture
// per role goes through each runtime's own mechanisms (the exposition through the pod's
// ports and Prometheus' image, the stop through the engine; the shared volume and the
// start order on both), against its own check only. (no-flush-on-sigterm is not one: with
// its 1 s batches it flushes before its SIGTERM whenever the engine takes longer than that
// to stop the primary, which a loaded docker host does.)
// That each role fixture breaks only its own rule was checked across its profile and
// the lifecycle core tests when the fixtures were written, not in every CI run (it would
// add some 15 minutes on 2 cores).
import type { ConformanceTest, Profile } from "./conformance-test.ts";

/** Profiles whose checks run against their fixtures in suites/<profile>/<profile>.test.ts. */
export const ROLE_SUITE_PROFILES: readonly Profile[] = ["telemetry", "logs", "secrets"];

export type FixtureRuntime = "local" | "docker" | "kubernetes";

export const DOCKER_FIXTURES: readonly string[] = [
  "reference/sidecars/ignore-sigterm.yaml",
  "reference/sidecars/slow-restart.yaml",
  "reference/sidecars/early-admin.yaml",
  "reference/sidecars/buffer-stream.yaml",
  "reference/sidecars/connection-limit.yaml",
  "reference/sidecars/fat-idle.yaml",
  "reference/sidecars/cpu-burner.yaml",
  "reference/sidecars/invalid-exposition.yaml",
  "reference/sidecars/exit-without-draining.yaml",
  "reference/sidecars/ready-before-write.yaml",
];

export const KUBERNETES_FIXTURES: readonly string[] = [
  "reference/sidecars/ready-late.yaml",
  "reference/sidecars/slow-restart.yaml",
  "reference/sidecars/ignore-sigterm.yaml",
  "reference/sidecars/quits-early.yaml",
  "reference/sidecars/slow-start.yaml",
  "reference/sidecars/buffer-stream.yaml",
  "reference/sidecars/fat-idle.yaml",
  "reference/sidecars/duplicate-exports.yaml",
  "reference/sidecars/lose-on-rename.yaml",
  "reference/sidecars/ready-before-write.yaml",
];

/** Whether the fixture suite also runs the fixture's collateral checks on `runtime` (see KUBERNETES_FIXTURES and the role profiles above). */
export function checksCollateral(runtime: FixtureRuntime, test: ConformanceTest): boolean {
  return runtime !== "kubernetes" && !ROLE_SUITE_PROFILES.includes(test.profile);
}

/**
 * The boundary pairs (suites/support/boundary-fixtures.ts) the suite runs on `runtime`:
 * every one on local, none on docker. A pair shows a check's resolution, which is the
 * check's own logic and the fixture's timing; the mechanisms docker implements
 * differently (signals, restarts, accounting) are each proven by the faulty fixtures
 * above, and a pair would add ~10–40 s per check to CI.
 */
export function boundaryFixturesFor<B extends { check: string }>(runtime: FixtureRuntime, boundaries: readonly B[], registry: readonly ConformanceTest[]): B[] {
  const unknown = boundaries.filter((b) => !registry.some((t) => t.id === b.check)).map((b) => b.check);
  if (unknown.length > 0) throw new Error(`boundary fixtures name checks the registry does not have: ${unknown.join(", ")}`);
  return runtime === "local" ? [...boundaries] : [];
}

/** The tests whose faulty fixtures the suite runs on `runtime`, in registry order. */
export function fixtureTestsFor(runtime: FixtureRuntime, registry: readonly ConformanceTest[]): ConformanceTest[] {
  if (runtime === "local") return registry.filter((t) => !ROLE_SUITE_PROFILES.includes(t.profile));
  const [list, listName] = runtime === "docker" ? [DOCKER_FIXTURES, "DOCKER_FIXTURES"] : [KUBERNETES_FIXTURES, "KUBERNETES_FIXTURES"];
  const unknown = list.filter((fixture) => !registry.some((t) => t.faultyFixture === fixture));
  if (unknown.length > 0) throw new Error(`${listName} names fixtures no test of the registry uses: ${unknown.join(", ")}`);
  return registry.filter((t) => list.includes(t.faultyFixture));
}
