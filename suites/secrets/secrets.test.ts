// Dev test of the secrets profile against real pods (local runtime): every check passes on
// the well-behaved secret-agent (and on its fail-closed variant, which removes the file
// while the store is down), and fails — naming the problem — on the fixture made to break
// it and on the other forms of the same fault. With consul-template built (npm run setup),
// the checks run on it too.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { describeRegistry } from "../support/check-expectations.ts";
import { REPO_ROOT, runCheckOnRealPod } from "../support/real-pod-check.ts";
import { secretsTests } from "./index.ts";
import { neverLogged } from "./never-logged.ts";
import { presentBeforePrimary } from "./present-before-primary.ts";
import { storeOutageDeclared } from "./store-outage-declared.ts";

const GOOD = "reference/sidecars/good-secret-agent.yaml";
const FAIL_CLOSED = "reference/sidecars/legitimate/fail-closed-secret-agent.yaml";
const CONSUL_TEMPLATE = "scenarios/sidecars/consul-template.yaml";
const consulTemplateBuilt = existsSync(join(REPO_ROOT, ".venv/bin/consul-template")) && existsSync(join(REPO_ROOT, CONSUL_TEMPLATE));

/** What each check's failure on its own fixture must name. */
const FAILURE_NAMES: Record<string, RegExp> = {
  "secrets.present-before-primary": /did not exist when the primary started \(it appeared \d+ ms after/,
  "secrets.rotation-reaches-primary": /rotation 1 had not reached the primary \d+ ms after the store write/,
  "secrets.store-outage-declared": /declares whenStoreDown keep.*during the outage the primary.s file was absent on \d+ of \d+ polls/,
  "secrets.never-logged": /with one in logs-secret: the seeded secret \(raw\) in logs-secret's log line \d+/,
};

/** The same rules broken another way: each must fail its check too. */
const OTHER_FORMS: Array<{ fixture: string; check: ConformanceTest; names: RegExp }> = [
  { fixture: "reference/sidecars/world-readable.yaml", check: presentBeforePrimary, names: /mode 0644 when the primary started/ },
  { fixture: "reference/sidecars/logs-secret-base64.yaml", check: neverLogged, names: /\(base64[^)]*\) in logs-secret-base64's log line \d+/ },
  { fixture: "reference/sidecars/keep-when-down-declares-remove.yaml", check: storeOutageDeclared, names: /declares whenStoreDown remove.*still there \d+ ms into the outage/ },
];

/** Pod start and stop around the check, beyond its own timeoutMs. */
const POD_OVERHEAD_MS = 30_000;

function explain(outcome: CheckOutcome): string {
  return `${outcome.verdict}: ${outcome.message}\n${JSON.stringify(outcome.evidence, null, 1).slice(0, 6_000)}`;
}

async function run(check: ConformanceTest, fixture: string): Promise<CheckOutcome> {
  const { outcome, durationMs } = await runCheckOnRealPod(check, fixture);
  process.stdout.write(`${check.id} on ${fixture}: ${outcome.verdict} in ${(durationMs / 1000).toFixed(1)} s\n`);
  return outcome;
}

/** No secret (nor a 16-character run of one) may reach a check's evidence or message. */
function expectNoSecretIn(outcome: CheckOutcome): void {
  const text = JSON.stringify(outcome);
  // The evidence shows sha256 prefixes and redaction markers only: no 43-character base64url run (the shape of every value the checks write).
  expect(text.match(/(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g) ?? []).toEqual([]);
}

describe("secrets profile", () => {
  describeRegistry("secrets", secretsTests, ["secrets.present-before-primary", "secrets.rotation-reaches-primary", "secrets.store-outage-declared", "secrets.never-logged"]);

  it("names the expected failure of every check", () => {
    for (const test of secretsTests) expect(FAILURE_NAMES[test.id], test.id).toBeDefined();
  });
});

describe.each(secretsTests.map((test) => [test.id, test] as const))("%s", (_id, test) => {
  const timeout = test.timeoutMs + POD_OVERHEAD_MS;

  it(`passes on ${GOOD}`, { timeout }, async () => {
    const outcome = await run(test, GOOD);
    expect(outcome.verdict, explain(outcome)).toBe("passed");
    expectNoSecretIn(outcome);
  });

  it(`passes on ${FAIL_CLOSED}`, { timeout }, async () => {
    const outcome = await run(test, FAIL_CLOSED);
    expect(outcome.verdict, explain(outcome)).toBe("passed");
  });

  it(`fails on ${test.faultyFixture}, naming the problem`, { timeout }, async () => {
    const outcome = await run(test, test.faultyFixture);
    expect(outcome.verdict, explain(outcome)).toBe("failed");
    expect(outcome.message).toMatch(/^expected .+; found .+/);
    expect(outcome.message).toMatch(FAILURE_NAMES[test.id] as RegExp);
    expect(outcome.evidence).toBeDefined();
    expectNoSecretIn(outcome);
  });

  it.skipIf(!consulTemplateBuilt)(`on consul-template (${CONSUL_TEMPLATE}): a verdict, and never the secret in its evidence`, { timeout }, async () => {
    const outcome = await run(test, CONSUL_TEMPLATE);
    process.stdout.write(`  consul-template ${test.id}: ${outcome.message}\n`);
    expect(["passed", "failed", "skipped"]).toContain(outcome.verdict);
    expectNoSecretIn(outcome);
  });
});

describe.each(OTHER_FORMS.map((f) => [f.fixture, f] as const))("%s", (_fixture, { fixture, check, names }) => {
  it(`fails ${check.id}, naming the problem`, { timeout: check.timeoutMs + POD_OVERHEAD_MS }, async () => {
    const outcome = await run(check, fixture);
    expect(outcome.verdict, explain(outcome)).toBe("failed");
    expect(outcome.message).toMatch(names);
    expectNoSecretIn(outcome);
  });
});
