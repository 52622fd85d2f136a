import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadManifest, parseManifest, type ManifestKind } from "./load-manifest.ts";
import { ManifestError, type ManifestIssue } from "./manifest-error.ts";

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
const FILE = "/manifests/test.yaml";

/** Issues of `text` validated as `kind`, without positions' file noise. */
function issuesOf(text: string, kind: ManifestKind = "Sidecar"): Array<Omit<ManifestIssue, "file">> {
  const { loaded, issues } = parseManifest(text, FILE, kind);
  expect(loaded).toBeUndefined();
  return issues.map(({ file, ...rest }) => {
    expect(file).toBe(FILE);
    return rest;
  });
}

function valid<K extends ManifestKind>(text: string, kind: K) {
  const { loaded, issues } = parseManifest(text, FILE, kind);
  expect(issues).toEqual([]);
  return loaded!.manifest;
}

const HEADER = "apiVersion: sidecar-bench/v1alpha1\nkind: Sidecar\nmetadata: { name: envoy }\n";
const TELEMETRY = "telemetry: { ingest: [scrape], export: exposition, exposition: { port: metrics }, whenBackendDown: drop }";
/** A valid sidecar with `spec` lines inserted; line 5 is the first spec line, its telemetry section is last. */
const sidecar = (...specLines: string[]) =>
  `${HEADER}spec:\n${["roles: [telemetry]", "container: { command: [otelcol] }", "ports: { metrics: 8888 }", ...specLines, TELEMETRY].map((l) => `  ${l}`).join("\n")}\n`;

describe("valid manifests", () => {
  it("loads the Envoy sidecar with probe defaults applied", async () => {
    const loaded = await loadManifest(fixture("valid/sidecars/envoy.yaml"), "Sidecar");
    expect(loaded.file).toBe(fixture("valid/sidecars/envoy.yaml"));
    expect(loaded.dir).toBe(fixture("valid/sidecars"));
    expect(loaded.sha256).toMatch(/^[0-9a-f]{64}$/);
    const { metadata, spec } = loaded.manifest;
    expect(metadata).toEqual({ name: "envoy", version: "1.40.0", vendor: "Envoy Proxy" });
    expect(spec.roles).toEqual(["proxy"]);
    expect(spec.container.command).toEqual(["envoy", "-c", "{{ file 'envoy.yaml' }}", "--concurrency", "1"]);
    expect(spec.ports).toEqual({ ingress: 15001, admin: 15000 });
    expect(spec.probes?.startup).toEqual({ http: { port: "admin", path: "/ready" }, periodMs: 100, timeoutMs: 1_000, failureThreshold: 3 });
    expect(spec.probes?.readiness).toEqual({ http: { port: "admin", path: "/ready" }, periodMs: 500, timeoutMs: 1_000, failureThreshold: 3 });
    expect(spec.startupTimeoutMs).toBe(30_000);
    expect(spec.proxy).toEqual({ listen: "ingress", upstream: "primary.http" });
    expect(spec.features).toEqual(["binary-tensors", "large-bodies", "streaming", "graceful-drain"]);
    expect(spec.budgets).toEqual({ idleMemoryMiB: 64, cpuPer1kRps: 0.3, addedP99Ms: 1 });
  });

  it("loads a sidecar with tcp and exec probes and explicit probe settings", async () => {
    const { spec } = (await loadManifest(fixture("valid/sidecars/log-shipper.yaml"), "Sidecar")).manifest;
    expect(spec.probes?.startup).toEqual({ tcp: { port: "metrics" }, periodMs: 50, timeoutMs: 1_000, failureThreshold: 10 });
    expect(spec.probes?.readiness?.exec?.command).toEqual(["test", "-f", "/tmp/shipper.ready"]);
    expect(spec.startupTimeoutMs).toBe(5_000);
    expect(spec.proxy).toBeUndefined();
  });

  it("loads a Primary", async () => {
    const { metadata, spec } = (await loadManifest(fixture("valid/primaries/fastapi-kserve.yaml"), "Primary")).manifest;
    expect(metadata.name).toBe("fastapi-kserve");
    expect(spec.model).toEqual({ name: "mlp" });
    expect(spec.ports).toEqual({ http: 8000 });
    expect(spec.container.env).toEqual({ MODEL_HIDDEN: "256", MODEL_SEED: "7" });
    expect(spec.probes?.readiness).toMatchObject({ periodMs: 250, http: { expectStatus: 200 } });
    expect(spec.resources).toEqual({ memoryMiB: 512, cpus: 1 });
  });

  it("applies every Scenario default", () => {
    const manifest = valid(
      `apiVersion: sidecar-bench/v1alpha1
kind: Scenario
metadata: { name: defaults }
spec:
  primary: p.yaml
  variants: [{ name: v, sidecars: [], entry: primary.http }]
  workload:
    request: { kind: infer, format: json, inputs: [{ name: x, datatype: FP32, shape: [1, 4] }] }
    load: { mode: open, ratePerSec: 50 }
`,
      "Scenario",
    );
    expect(manifest.spec).toMatchObject({
      runtime: "local",
      terminationGracePeriodMs: 30_000,
      trials: { rounds: 10, durationMs: 5_000, minRequests: 500, warmupMs: 3_000 },
      calibration: { aa: true },
      seed: 1,
      pinning: { mode: "split" },
      thresholds: { maxRateShortfallPct: 2 },
    });
    expect(manifest.spec.workload.load).toEqual({ mode: "open", arrival: "poisson", ratePerSec: 50, maxConnections: 64, timeoutMs: 10_000 });
  });

  it("keeps explicit Scenario settings, closed-loop load included", async () => {
    const { spec } = (await loadManifest(fixture("valid/scenario-full.yaml"), "Scenario")).manifest;
    expect(spec.runtime).toBe("docker");
    expect(spec.terminationGracePeriodMs).toBe(10_000);
    expect(spec.workload.load).toEqual({ mode: "closed", connections: 16, timeoutMs: 2_000 });
    expect(spec.trials).toEqual({ rounds: 4, durationMs: 2_000, minRequests: 100, warmupMs: 0, slotMs: 250 });
    expect(spec.calibration.aa).toBe(false);
    expect(spec.seed).toBe(42);
    expect(spec.pinning.mode).toBe("none");
    expect(spec.thresholds).toEqual({ maxRateShortfallPct: 5, maxAddedP99Ms: 2.5 });
  });

  it("accepts every declared feature and role", () => {
    const manifest = valid(
      sidecar(
        "features: [binary-tensors, large-bodies, streaming, graceful-drain, header-passthrough, keep-alive]",
        "volumes: [logs, secrets]",
        "logs: { export: syslog-tcp, whenBackendDown: buffer }",
        "secrets: { whenStoreDown: keep }",
      ).replace(
        "roles: [telemetry]",
        "roles: [telemetry, logs, secrets]",
      ),
      "Sidecar",
    );
    expect(manifest.spec.features).toHaveLength(6);
    expect(manifest.spec.roles).toEqual(["telemetry", "logs", "secrets"]);
  });
});

describe("YAML problems", () => {
  it("rejects duplicate keys with their line, even where the values agree", async () => {
    const error = await loadManifest(fixture("invalid/duplicate-key.yaml"), "Sidecar").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).issues).toEqual([
      { file: fixture("invalid/duplicate-key.yaml"), path: "spec.ports", line: 8, column: 3, message: 'duplicate key "ports" (first defined at line 7)' },
    ]);
    expect(issuesOf("a: 1\na: 1\n").some((i) => i.message.startsWith('duplicate key "a"') && i.line === 2)).toBe(true);
  });

  it("reports a duplicate key nested in a list with the list index in the path", () => {
    const text = sidecar("probes:", "  readiness: { exec: { command: [check], command: [other] } }");
    expect(issuesOf(text)).toEqual([{ path: "spec.probes.readiness.exec.command", line: 9, column: 44, message: 'duplicate key "command" (first defined at line 9)' }]);
  });

  it("reports syntax errors with line and column and does not validate further", async () => {
    const error = (await loadManifest(fixture("invalid/syntax-error.yaml"), "Sidecar").catch((e: unknown) => e)) as ManifestError;
    expect(error).toBeInstanceOf(ManifestError);
    expect(error.issues.length).toBeGreaterThan(0);
    for (const issue of error.issues) {
      expect(issue.message).toMatch(/^YAML syntax error: /);
      expect(issue.line).toBeGreaterThanOrEqual(3);
      expect(issue.column).toBeGreaterThanOrEqual(1);
    }
    expect(error.message).toMatch(/syntax-error\.yaml:\d+:\d+ YAML syntax error: /);
  });

  it("reports an unresolved alias at its position", () => {
    expect(issuesOf(`${HEADER}spec: *nothing\n`)).toEqual([{ path: "", line: 4, column: 7, message: expect.stringContaining("Unresolved alias") }]);
  });

  it("reports an empty document as such", () => {
    expect(issuesOf("# nothing here\n")).toEqual([
      { path: "", line: 1, column: 1, message: "expected a Sidecar manifest (apiVersion, kind, metadata, spec), found an empty document" },
    ]);
  });

  it("reports a document that is not a mapping", () => {
    expect(issuesOf("- kind: Sidecar\n")).toEqual([{ path: "", line: 1, column: 1, message: "expected a mapping, found a list of 1 item" }]);
  });
});

describe("schema issues", () => {
  it("rejects an unknown key at its line, suggesting the likely intended key", () => {
    expect(issuesOf(sidecar("startupTimeotMs: 1000"))).toEqual([
      { path: "spec.startupTimeotMs", line: 8, column: 3, message: 'unknown key "startupTimeotMs" (did you mean "startupTimeoutMs"?)' },
    ]);
  });

  it("suggests a key that is a prefix of the typed one and reports the key then missing", () => {
    expect(issuesOf(scenarioWithLoad("{ mode: open, ratePerSecond: 100 }"), "Scenario")).toEqual([
      { path: "spec.workload.load.ratePerSec", line: 8, column: 5, message: 'missing required key "ratePerSec" (expected a number > 0)' },
      { path: "spec.workload.load.ratePerSecond", line: 8, column: 25, message: 'unknown key "ratePerSecond" (did you mean "ratePerSec"?)' },
    ]);
  });

  it("does not suggest anything for an unrelated unknown key", () => {
    expect(issuesOf(sidecar("colour: blue"))).toEqual([{ path: "spec.colour", line: 8, column: 3, message: 'unknown key "colour"' }]);
  });

  it("rejects unknown keys at every level, including the top", () => {
    const issues = issuesOf(`${sidecar("probes: { startup: { tcp: { port: metrics, host: x } } }")}extra: 1\n`);
    expect(issues.map((i) => i.message)).toEqual(['unknown key "host"', 'unknown key "extra"']);
    expect(issues.map((i) => i.path)).toEqual(["spec.probes.startup.tcp.host", "extra"]);
  });

  it("says what was expected and what was found for wrong types", () => {
    const issues = issuesOf(scenarioWithLoad('{ mode: open, ratePerSec: "fast", maxConnections: 1.5, timeoutMs: "500" }'), "Scenario");
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ["spec.workload.load.ratePerSec", 'expected a number > 0, found "fast"'],
      ["spec.workload.load.maxConnections", "expected a whole number > 0, found 1.5"],
      ["spec.workload.load.timeoutMs", 'expected a whole number of milliseconds > 0, found "500" (remove the quotes to make it a number)'],
    ]);
  });

  it("explains YAML's number and string pitfalls", () => {
    const text = sidecar("startupTimeoutMs: 30_000", "container: { command: [otelcol], env: { PORT: 8000 } }").replace("  container: { command: [otelcol] }\n", "");
    expect(issuesOf(text.replace("metadata: { name: envoy }", "metadata: { name: envoy, version: 1.10 }")).map((i) => i.message)).toEqual([
      "expected a non-empty string, found 1.1 (put it in quotes to make it a string)",
      'expected a whole number of milliseconds > 0, found "30_000" (YAML numbers have no "_" separators: write 30000)',
      "expected a string, found 8000 (put it in quotes to make it a string)",
    ]);
  });

  it("names a missing required key and places it at the owning key", () => {
    expect(issuesOf(`${HEADER}spec:\n  roles: [secrets]\n  ports: {}\n  volumes: [secrets]\n  secrets: { whenStoreDown: keep }\n`)).toEqual([
      { path: "spec.container", line: 4, column: 1, message: 'missing required key "container" (expected a mapping)' },
    ]);
    expect(issuesOf("apiVersion: sidecar-bench/v1alpha1\nkind: Sidecar\n").map((i) => i.message)).toEqual([
      'missing required key "metadata" (expected a mapping)',
      'missing required key "spec" (expected a mapping)',
    ]);
  });

  it("rejects out-of-range numbers", () => {
    const issues = issuesOf(sidecar("probes: { startup: { http: { port: metrics, path: /, expectStatus: 700 }, failureThreshold: 0 } }").replace("8888", "70000"));
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ["spec.ports.metrics", "expected a port number from 1 to 65535, found 70000"],
      ["spec.probes.startup.http.expectStatus", "expected an HTTP status code from 100 to 599, found 700"],
      ["spec.probes.startup.failureThreshold", "expected a whole number > 0, found 0"],
    ]);
    expect(issuesOf(scenarioWithLoad("{ mode: open, ratePerSec: 0 }").replace("  workload:", "  trials: { rounds: 1 }\n  workload:"), "Scenario").map((i) => i.message)).toEqual([
      "expected a whole number ≥ 2 (one trial cannot show variance), found 1",
      "expected a number > 0, found 0",
    ]);
  });

  it("rejects bad enum values with the allowed values and a suggestion", () => {
    expect(issuesOf(sidecar("features: [streaming, keepalive]").replace("roles: [telemetry]", "roles: [telemetri]"))).toEqual([
      { path: "spec.roles[0]", line: 5, column: 11, message: 'expected one of "proxy", "telemetry", "logs", "secrets", found "telemetri" (did you mean "telemetry"?)' },
      {
        path: "spec.features[1]",
        line: 8,
        column: 25,
        message:
          'expected one of "binary-tensors", "large-bodies", "streaming", "graceful-drain", "header-passthrough", "keep-alive", found "keepalive" (did you mean "keep-alive"?)',
      },
    ]);
  });

  it("rejects a wrong apiVersion and a load mode that does not exist", () => {
    const text = scenarioWithLoad("{ mode: opne, ratePerSec: 5 }").replace("v1alpha1", "v1");
    expect(issuesOf(text, "Scenario").map((i) => [i.path, i.message])).toEqual([
      ["apiVersion", 'expected "sidecar-bench/v1alpha1", found "sidecar-bench/v1"'],
      ["spec.workload.load.mode", 'expected one of "open", "closed", "vegeta", found "opne" (did you mean "open"?)'],
    ]);
  });

  it("rejects a manifest of another kind with that one issue", () => {
    expect(issuesOf(sidecar(), "Primary")).toEqual([
      { path: "kind", line: 2, column: 7, message: 'expected "Primary", found "Sidecar": this file is referenced as a Primary manifest' },
    ]);
  });

  it("rejects names that cannot be container or port names", () => {
    const issues = issuesOf(sidecar().replace("name: envoy", "name: Envoy_1").replace("metrics: 8888", "Metrics: 8888"));
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ["metadata.name", "expected a name of lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters, found \"Envoy_1\""],
      ["spec.ports.Metrics", "invalid key: expected a port name of lowercase letters, digits and '-', starting with a letter, at most 15 characters, found \"Metrics\""],
      ["spec.telemetry.exposition.port", 'port "metrics" is not declared in spec.ports (none declared)'],
    ]);
  });

  it("reserves the names of the primary and the role backends", () => {
    expect(issuesOf(sidecar().replace("name: envoy", "name: primary"))).toEqual([
      { path: "metadata.name", line: 3, column: 19, message: '"primary" is reserved for the primary container; choose another name' },
    ]);
    expect(issuesOf(sidecar().replace("name: envoy", "name: backend")).map((i) => i.message)).toEqual([
      '"backend" is reserved for the role backend (telemetry, logs and secrets sidecars deliver to it); choose another name',
    ]);
  });
});

describe("cross-field checks", () => {
  it("rejects probes on undeclared ports, suggesting the declared one", () => {
    expect(issuesOf(sidecar("probes:", "  startup: { http: { port: metric, path: /ready } }", "  readiness: { tcp: { port: admin } }"))).toEqual([
      { path: "spec.probes.startup.http.port", line: 9, column: 30, message: 'port "metric" is not declared in spec.ports (declared: metrics) (did you mean "metrics"?)' },
      { path: "spec.probes.readiness.tcp.port", line: 10, column: 31, message: 'port "admin" is not declared in spec.ports (declared: metrics)' },
    ]);
  });

  it("requires exactly one probe action", () => {
    expect(issuesOf(sidecar("probes:", "  startup: { periodMs: 50 }", "  readiness: { tcp: { port: metrics }, exec: { command: [check] } }")).map((i) => [i.path, i.message])).toEqual([
      ["spec.probes.startup", "expected exactly one of http, tcp or exec, found none"],
      ["spec.probes.readiness", "expected exactly one of http, tcp or exec, found tcp and exec"],
    ]);
  });

  it("requires a proxy section for the proxy role, on a declared listen port", () => {
    expect(issuesOf(sidecar().replace("roles: [telemetry]", "roles: [proxy]"))).toEqual([
      {
        path: "spec.proxy",
        line: 4,
        column: 1,
        message: 'missing required key "proxy" (roles include "proxy", so expected a mapping {listen: <port name>, upstream: <container>.<port>})',
      },
    ]);
    expect(issuesOf(sidecar("proxy: { listen: ingress, upstream: primary }")).map((i) => [i.path, i.message])).toEqual([
      ["spec.proxy.listen", 'port "ingress" is not declared in spec.ports (declared: metrics)'],
      ["spec.proxy.upstream", 'expected "<container>.<port>", e.g. "primary.http", found "primary"'],
    ]);
  });

  it("rejects two port names sharing one number, repeated roles and a primary without an http port", () => {
    expect(issuesOf(sidecar().replace("{ metrics: 8888 }", "{ metrics: 8888, admin: 8888 }").replace("[telemetry]", "[telemetry, telemetry]")).map((i) => i.message)).toEqual([
      '"telemetry" is already listed at [0]',
      'port number 8888 is already used by port "metrics"',
    ]);
    const primary = `apiVersion: sidecar-bench/v1alpha1
kind: Primary
metadata: { name: server }
spec:
  container: { command: [server] }
  ports: { grpc: 9000 }
  model: { name: mlp }
`;
    expect(issuesOf(primary, "Primary")).toEqual([
      { path: "spec.ports", line: 6, column: 10, message: 'expected a port named "http" (where inference requests go), found only grpc' },
    ]);
  });

  it("rejects repeated variant names, the reserved baseline name and malformed entries", () => {
    const text = `apiVersion: sidecar-bench/v1alpha1
kind: Scenario
metadata: { name: s }
spec:
  primary: p.yaml
  variants:
    - { name: baseline, sidecars: [], entry: primary.http }
    - { name: a, sidecars: [], entry: primary:http }
    - { name: a, sidecars: [], entry: primary.http }
  workload:
    request: { kind: infer, format: json, inputs: [{ name: x, datatype: FP32, shape: [1] }, { name: x, datatype: INT32, shape: [0] }] }
    load: { mode: closed, connections: 4 }
`;
    expect(issuesOf(text, "Scenario").map((i) => [i.path, `${i.line}:${i.column}`, i.message])).toEqual([
      ["spec.variants[0].name", "7:15", '"baseline" is the implicit variant (client → primary.http); choose another name'],
      ["spec.variants[1].entry", "8:39", 'expected "<container>.<port>", e.g. "primary.http", found "primary:http"'],
      ["spec.variants[2].name", "9:15", 'variant name "a" is already used by variants[1]'],
      ["spec.workload.request.inputs[1].name", "11:101", 'input "x" is already defined at inputs[0]'],
      ["spec.workload.request.inputs[1].shape[0]", "11:129", "expected a whole number > 0, found 0"],
    ]);
  });
});

describe("all issues of a file at once", () => {
  it("reports every problem of a broken file in one error, in line order", async () => {
    const file = fixture("invalid/many-issues.yaml");
    const error = (await loadManifest(file, "Sidecar").catch((e: unknown) => e)) as ManifestError;
    expect(error).toBeInstanceOf(ManifestError);
    expect(error.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
      "3:19 metadata.name: expected a name of lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters, found \"Envoy\"",
      '3:26 metadata.vendr: unknown key "vendr" (did you mean "vendor"?)',
      "4:1 spec.proxy: missing required key \"proxy\" (roles include \"proxy\", so expected a mapping {listen: <port name>, upstream: <container>.<port>})",
      '5:18 spec.roles[1]: expected one of "proxy", "telemetry", "logs", "secrets", found "gateway"',
      '7:14 spec.container.command: expected a non-empty list of strings (program, then arguments), found "envoy"',
      "8:35 spec.ports.admin: expected a port number from 1 to 65535, found 99999",
      '10:30 spec.probes.startup.http.port: port "admn" is not declared in spec.ports (declared: ingress, admin) (did you mean "admin"?)',
      '11:29 spec.budgets.idleMemoryMiB: expected a number > 0, found "lots"',
    ]);
  });
});

describe("unreadable files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sidecar-bench-manifest-"));
    await mkdir(join(dir, "a-directory.yaml"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("says a file is missing", async () => {
    const missing = join(dir, "nope.yaml");
    await expect(loadManifest(missing, "Sidecar")).rejects.toThrow(`file not found: ${missing}`);
  });

  it("says a path is a directory", async () => {
    await expect(loadManifest(join(dir, "a-directory.yaml"), "Sidecar")).rejects.toThrow("expected a manifest file, found a directory");
  });
});

/** A valid Scenario whose workload.load (line 8) is `load`. */
function scenarioWithLoad(load: string): string {
  return `apiVersion: sidecar-bench/v1alpha1
kind: Scenario
metadata: { name: s }
spec:
  primary: p.yaml
  variants: [{ name: v, sidecars: [], entry: primary.http }]
  workload:
    load: ${load}
    request: { kind: infer, format: json, inputs: [{ name: x, datatype: FP32, shape: [1] }] }
`;
}
