// The project's well-behaved reference sidecars, one per role: each must pass every test
// of its profiles (the fixture suite certifies them on every runtime), so each check is
// shown to pass on a sidecar that keeps its rule as well as to fail on one that breaks it.
/** The one certified in full on every runtime: lifecycle and resources through each runtime's mechanisms. */
export const GOOD_PROXY_FIXTURE = "reference/sidecars/good-proxy.yaml";

export const WELL_BEHAVED_FIXTURES: readonly string[] = [
  GOOD_PROXY_FIXTURE,
  "reference/sidecars/good-log-shipper.yaml",
  "reference/sidecars/good-secret-agent.yaml",
  "reference/sidecars/good-telemetry.yaml",
  "reference/sidecars/good-telemetry-exposition.yaml",
];
