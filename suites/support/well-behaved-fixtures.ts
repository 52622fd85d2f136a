// The project's well-behaved reference sidecars, one per role: each must pass every test
// of its profiles (the fixture suite certifies them on every runtime), so each check is
// shown to pass on a sidecar that keeps its rule as well as to fail on one that breaks it.
export const WELL_BEHAVED_FIXTURES: readonly string[] = [
  "reference/sidecars/good-proxy.yaml",
];
