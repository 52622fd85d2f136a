import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManifestError, parseManifest, type ManifestIssue } from "../scenario/index.ts";
import { loadPolicy, policyRecord, suitePolicy } from "./certification-policy.ts";
import { DEFAULT_SUITE_CONFIG, SUITE_CONFIG_VERSION } from "./suite-config.ts";

const FILE = "/policies/platform.yaml";
const HEADER = "apiVersion: sidecar-bench/v1alpha1\nkind: CertificationPolicy\nmetadata: { name: platform }\n";

function issuesOf(text: string): Array<Omit<ManifestIssue, "file">> {
  const { loaded, issues } = parseManifest(text, FILE, "CertificationPolicy");
  expect(loaded).toBeUndefined();
  return issues.map(({ file, ...rest }) => {
    expect(file).toBe(FILE);
    return rest;
  });
}

function writePolicy(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "sb-policy-")), "platform.yaml");
  writeFileSync(file, text);
  return file;
}

describe("the suite's default policy", () => {
  it("holds every threshold and the whole suite config, marked as the suite's", () => {
    const policy = suitePolicy();
    expect(policy).toMatchObject({ source: "suite-defaults", file: null, sha256: null, name: "suite-defaults" });
    expect(policy.thresholds).toEqual({
      lifecycle: { timeToReadyMs: 5_000, maxProbeSlackMs: 1_000, failFastMs: 1_000, recoveryMs: 10_000, sigtermExitMs: 5_000 },
      proxy: { streamLagMs: 200, streamMinSpanRatio: 0.5, streamMinGapRatio: 0.5 },
      resources: { idleMemoryMiB: 128, cpuPer1kRps: 1, soakGrowthMiB: 16 },
      telemetry: { deliveryDelayMs: 10_000, outageGrowthMiB: 64, outageLatencyRatio: 1.5 },
      logs: { deliveryDelayMs: 10_000 },
      secrets: { rotationMs: 60_000 },
    });
    expect(policy.suite).toEqual(DEFAULT_SUITE_CONFIG);
    expect(policy.suite.triesPerExpectation).toBe(44);
  });

  it("is what loadPolicy gives without a file, and the certificate records it as such", async () => {
    expect(await loadPolicy(null)).toEqual(suitePolicy());
    const record = policyRecord(suitePolicy(), "/project");
    expect(record).toMatchObject({ source: "suite-defaults", file: null, sha256: null, suiteConfig: { version: SUITE_CONFIG_VERSION, values: DEFAULT_SUITE_CONFIG } });
    expect(record.thresholds.resources.cpuPer1kRps).toBe(1);
  });
});

describe("a policy file", () => {
  it("overrides only what it names: defaults < file, section by section and field by field", async () => {
    const text = `${HEADER}spec:\n  lifecycle: { timeToReadyMs: 8000 }\n  resources: { cpuPer1kRps: 2 }\n  secrets: { rotationMs: 5000 }\n  suite: { triesPerExpectation: 60, soakMs: 20000 }\n`;
    const file = writePolicy(text);
    const policy = await loadPolicy(file);
    const defaults = suitePolicy();
    expect(policy).toMatchObject({ source: "file", file, sha256: createHash("sha256").update(text).digest("hex"), name: "platform" });
    expect(policy.thresholds).toEqual({
      lifecycle: { ...defaults.thresholds.lifecycle, timeToReadyMs: 8_000 },
      proxy: defaults.thresholds.proxy,
      resources: { ...defaults.thresholds.resources, cpuPer1kRps: 2 },
      telemetry: defaults.thresholds.telemetry,
      logs: defaults.thresholds.logs,
      secrets: { rotationMs: 5_000 },
    });
    expect(policy.suite).toEqual({ ...DEFAULT_SUITE_CONFIG, triesPerExpectation: 60, soakMs: 20_000 });
  });

  it("may leave spec out: the suite's thresholds under the file's name", async () => {
    const policy = await loadPolicy(writePolicy(HEADER));
    expect(policy.thresholds).toEqual(suitePolicy().thresholds);
    expect(policy.name).toBe("platform");
  });

  it("is recorded with its path relative to the project, its sha256 and every effective value", async () => {
    const file = writePolicy(`${HEADER}spec: { proxy: { streamLagMs: 150 } }\n`);
    const policy = await loadPolicy(file);
    const dir = join(file, "..", "..");
    const record = policyRecord(policy, dir);
    expect(record.file).toBe(join(file.split("/").at(-2)!, "platform.yaml"));
    expect(record.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(record.thresholds.proxy.streamLagMs).toBe(150);
    expect(record.suiteConfig).toEqual({ version: SUITE_CONFIG_VERSION, values: DEFAULT_SUITE_CONFIG });
    expect(policyRecord(policy, "/elsewhere").file).toBe(file);
  });
});

describe("policy file errors: every one names file:line:col, the field, what was expected and what was found", () => {
  it("an unknown key, with did-you-mean, at its own line", () => {
    expect(issuesOf(`${HEADER}spec:\n  lifecycle: { timeToReadyMS: 8000 }\n`)).toEqual([
      { path: "spec.lifecycle.timeToReadyMS", line: 5, column: 16, message: 'unknown key "timeToReadyMS" (did you mean "timeToReadyMs"?)' },
    ]);
    expect(issuesOf(`${HEADER}spec:\n  resource: {}\n`)).toEqual([{ path: "spec.resource", line: 5, column: 3, message: 'unknown key "resource" (did you mean "resources"?)' }]);
    expect(issuesOf(`${HEADER}spec:\n  suite: { triesPerExpectations: 10 }\n`)[0]!.message).toBe('unknown key "triesPerExpectations" (did you mean "triesPerExpectation"?)');
  });

  it("a duplicate key, even with the same value", () => {
    expect(issuesOf(`${HEADER}spec:\n  resources:\n    idleMemoryMiB: 64\n    idleMemoryMiB: 64\n`)).toEqual([
      { path: "spec.resources.idleMemoryMiB", line: 7, column: 5, message: 'duplicate key "idleMemoryMiB" (first defined at line 6)' },
    ]);
  });

  it("values of the wrong type or out of range", () => {
    const issues = issuesOf(
      `${HEADER}spec:\n  lifecycle: { timeToReadyMs: "5s", failFastMs: -1, recoveryMs: 1.5 }\n  proxy: { streamMinGapRatio: 1.5 }\n  resources: { idleMemoryMiB: 0 }\n  suite: { triesPerExpectation: 0, loadRatePerSec: 5000 }\n`,
    );
    expect(issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
      "5:31 spec.lifecycle.timeToReadyMs: expected a whole number of milliseconds > 0, found \"5s\"",
      "5:49 spec.lifecycle.failFastMs: expected a whole number of milliseconds > 0, found -1",
      "5:65 spec.lifecycle.recoveryMs: expected a whole number of milliseconds > 0, found 1.5",
      "6:31 spec.proxy.streamMinGapRatio: expected a ratio > 0 and ≤ 1, found 1.5",
      "7:31 spec.resources.idleMemoryMiB: expected a number > 0, found 0",
      "8:33 spec.suite.triesPerExpectation: expected a whole number > 0, found 0",
      "8:52 spec.suite.loadRatePerSec: expected a whole number of requests per second from 1 to 2000, found 5000",
    ]);
  });

  it("a section that is not a mapping", () => {
    expect(issuesOf(`${HEADER}spec:\n  lifecycle: 5000\n`)).toEqual([{ path: "spec.lifecycle", line: 5, column: 14, message: "expected a mapping, found 5000" }]);
  });

  it("the wrong apiVersion or kind, or another kind of file", () => {
    expect(issuesOf("apiVersion: sidecar-bench/v1\nkind: CertificationPolicy\nmetadata: { name: p }\n")).toEqual([
      { path: "apiVersion", line: 1, column: 13, message: 'expected "sidecar-bench/v1alpha1", found "sidecar-bench/v1"' },
    ]);
    expect(issuesOf("apiVersion: sidecar-bench/v1alpha1\nkind: Policy\nmetadata: { name: p }\n")).toEqual([
      { path: "kind", line: 2, column: 7, message: 'expected "CertificationPolicy", found "Policy"' },
    ]);
    expect(issuesOf("apiVersion: sidecar-bench/v1alpha1\nkind: Sidecar\nmetadata: { name: envoy }\nspec: {}\n")).toEqual([
      { path: "kind", line: 2, column: 7, message: 'expected "CertificationPolicy", found "Sidecar": this file is referenced as a CertificationPolicy manifest' },
    ]);
  });

  it("a missing or invalid metadata.name", () => {
    expect(issuesOf("apiVersion: sidecar-bench/v1alpha1\nkind: CertificationPolicy\n")).toEqual([
      { path: "metadata", line: 1, column: 1, message: 'missing required key "metadata" (expected a mapping)' },
    ]);
    expect(issuesOf("apiVersion: sidecar-bench/v1alpha1\nkind: CertificationPolicy\nmetadata: { name: Platform_Team }\n")[0]).toMatchObject({
      path: "metadata.name",
      line: 3,
      message: expect.stringMatching(/^expected a name of lowercase letters, digits and '-'.*, found "Platform_Team"$/),
    });
  });

  it("YAML syntax errors and empty files", () => {
    expect(issuesOf(`${HEADER}spec:\n  lifecycle: { timeToReadyMs: 8000\n`)[0]).toMatchObject({ path: "", line: expect.any(Number) });
    expect(issuesOf("# nothing\n")).toEqual([{ path: "", line: 1, column: 1, message: "expected a CertificationPolicy manifest (apiVersion, kind, metadata, spec), found an empty document" }]);
  });

  it("loadPolicy throws a ManifestError naming the file, and a missing file says so", async () => {
    const file = writePolicy(`${HEADER}spec:\n  resources: { cpuPer1kRps: cheap }\n`);
    const error = (await loadPolicy(file).catch((e: unknown) => e)) as ManifestError;
    expect(error).toBeInstanceOf(ManifestError);
    expect(error.message).toMatch(/platform\.yaml:5:29 spec\.resources\.cpuPer1kRps: expected a number > 0, found "cheap"$/);
    const missing = (await loadPolicy("/no/such/policy.yaml").catch((e: unknown) => e)) as ManifestError;
    expect(missing.message).toBe("/no/such/policy.yaml file not found: /no/such/policy.yaml");
  });
});
