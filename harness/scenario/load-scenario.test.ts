import { createHash } from "node:crypto";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findVariant, loadScenario } from "./load-scenario.ts";
import { ManifestError } from "./manifest-error.ts";

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

const PRIMARY = `apiVersion: sidecar-bench/v1alpha1
kind: Primary
metadata: { name: server }
spec:
  container: { command: [server, --port, "{{ port 'http' }}"] }
  ports: { http: 8000 }
  model: { name: mlp }
`;

const proxySidecar = (name: string, ports: string, upstream = "primary.http") => `apiVersion: sidecar-bench/v1alpha1
kind: Sidecar
metadata: { name: ${name} }
spec:
  roles: [proxy]
  container: { command: [${name}] }
  ports: ${ports}
  proxy: { listen: ingress, upstream: ${upstream} }
`;

/** A scenario whose `variants:` list is `variants` (indented list lines), starting at line 6. */
const scenario = (...variants: string[]) => `apiVersion: sidecar-bench/v1alpha1
kind: Scenario
metadata: { name: cross }
spec:
  primary: primary.yaml
  variants:
${variants.map((v) => `    ${v}`).join("\n")}
  workload:
    request: { kind: infer, format: json, inputs: [{ name: x, datatype: FP32, shape: [1] }] }
    load: { mode: open, ratePerSec: 10 }
`;

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Writes `files` (relative path → text) into a fresh temp directory and returns it. */
async function writeTree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sidecar-bench-scenario-"));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

async function issuesOf(files: Record<string, string>): Promise<string[]> {
  const dir = await writeTree(files);
  const error = await loadScenario(join(dir, "scenario.yaml")).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ManifestError);
  return (error as ManifestError).issues.map((i) => `${i.file.slice(dir.length + 1)}:${i.line}:${i.column} ${i.path}: ${i.message}`);
}

describe("loadScenario", () => {
  it("resolves the primary and every variant's sidecars, relative to the scenario file", async () => {
    const file = fixture("valid/scenario.yaml");
    const resolved = await loadScenario(file);
    expect(resolved.file).toBe(file);
    expect(resolved.dir).toBe(fixture("valid"));
    expect(resolved.sha256).toBe(createHash("sha256").update(await readFile(file)).digest("hex"));
    expect(resolved.manifest.metadata.name).toBe("envoy-overhead");
    expect(resolved.manifest.spec.trials.rounds).toBe(10);

    expect(resolved.primary.file).toBe(fixture("valid/primaries/fastapi-kserve.yaml"));
    expect(resolved.primary.dir).toBe(fixture("valid/primaries"));
    expect(resolved.primary.manifest.spec.model.name).toBe("mlp");

    expect(resolved.baseline).toEqual({ name: "baseline", entry: { container: "primary", port: "http" }, primary: resolved.primary, sidecars: [] });
    expect(resolved.variants.every((v) => v.primary === resolved.primary)).toBe(true);
    expect(resolved.variants.map((v) => [v.name, v.entry, v.sidecars.map((s) => s.manifest.metadata.name)])).toEqual([
      ["envoy", { container: "envoy", port: "ingress" }, ["envoy"]],
      ["envoy-and-logs", { container: "envoy", port: "ingress" }, ["log-shipper", "envoy"]],
    ]);
    const envoy = resolved.variants[0]!.sidecars[0]!;
    expect(envoy.file).toBe(fixture("valid/sidecars/envoy.yaml"));
    expect(envoy.dir).toBe(fixture("valid/sidecars"));
    expect(envoy.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("replaces spec.primary with --primary's manifest in every arm, and records its path in the spec", async () => {
    const dir = await writeTree({
      "scenario.yaml": scenario("- { name: direct }"),
      "primary.yaml": PRIMARY,
      "other/triton.yaml": PRIMARY.replace("name: server", "name: other-server"),
    });
    const resolved = await loadScenario(join(dir, "scenario.yaml"), { primaryFile: join(dir, "other/triton.yaml") });
    expect(resolved.primary.manifest.metadata.name).toBe("other-server");
    expect(resolved.baseline.primary).toBe(resolved.primary);
    expect(resolved.variants[0]!.primary).toBe(resolved.primary);
    expect(resolved.manifest.spec.primary).toBe("other/triton.yaml");
    expect((await loadScenario(join(dir, "scenario.yaml"))).primary.manifest.metadata.name).toBe("server");
  });

  it("is plain data: JSON round-trips it unchanged", async () => {
    const resolved = await loadScenario(fixture("valid/scenario.yaml"));
    expect(JSON.parse(JSON.stringify(resolved))).toEqual(resolved);
  });

  it("accepts absolute and ./ paths and variants without sidecars", async () => {
    const resolved = await loadScenario(fixture("valid/scenario-full.yaml"));
    expect(resolved.variants[1]).toMatchObject({ name: "logs-only", entry: { container: "primary", port: "http" } });
    const dir = await writeTree({ "primary.yaml": PRIMARY });
    await writeFile(join(dir, "scenario.yaml"), scenario("- { name: alone, sidecars: [], entry: primary.http }").replace("primary.yaml", join(dir, "primary.yaml")));
    expect((await loadScenario(join(dir, "scenario.yaml"))).primary.file).toBe(join(dir, "primary.yaml"));
  });

  it("reports a variant entry on an unknown container or an undeclared port", async () => {
    const error = (await loadScenario(fixture("invalid/scenario-bad-entry.yaml")).catch((e: unknown) => e)) as ManifestError;
    expect(error).toBeInstanceOf(ManifestError);
    expect(error.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
      "9:14 spec.variants[0].entry: container \"envoyy\" is not in this variant's pod (containers: primary, envoy) (did you mean \"envoy\"?)",
      '12:14 spec.variants[1].entry: container "envoy" has no port "ingres" (ports: ingress, admin) (did you mean "ingress"?)',
    ]);
  });

  it("reports missing referenced files where the scenario names them, together with other files' issues", async () => {
    const error = (await loadScenario(fixture("invalid/scenario-missing-files.yaml")).catch((e: unknown) => e)) as ManifestError;
    expect(error).toBeInstanceOf(ManifestError);
    expect(error.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
      `5:12 spec.primary: file not found: ${fixture("valid/primaries/nope.yaml")} (the path is relative to this scenario file)`,
      `8:48 spec.variants[0].sidecars[1]: file not found: ${fixture("valid/sidecars/missing.yaml")} (the path is relative to this scenario file)`,
    ]);
  });

  it("reports a missing scenario file", async () => {
    await expect(loadScenario(fixture("nope.yaml"))).rejects.toThrow(`file not found: ${fixture("nope.yaml")}`);
  });

  it("collects the issues of every referenced file into one error, each file once", async () => {
    const issues = await issuesOf({
      "scenario.yaml": scenario(
        "- { name: a, sidecars: [bad.yaml], entry: bad.ingress }",
        "- { name: b, sidecars: [bad.yaml], entry: bad.ingress }",
      ),
      "primary.yaml": PRIMARY.replace("8000", "0"),
      "bad.yaml": proxySidecar("bad", "{ ingress: 15001 }").replace("roles: [proxy]", "roles: [proxy]\n  colour: red"),
    });
    expect(issues).toEqual([
      'bad.yaml:6:3 spec.colour: unknown key "colour"',
      "primary.yaml:6:18 spec.ports.http: expected a port number from 1 to 65535, found 0",
    ]);
  });

  it("rejects a sidecar referenced with the wrong kind", async () => {
    const issues = await issuesOf({
      "scenario.yaml": scenario("- { name: a, sidecars: [primary.yaml], entry: primary.http }"),
      "primary.yaml": PRIMARY,
    });
    expect(issues).toEqual(['primary.yaml:2:7 kind: expected "Sidecar", found "Primary": this file is referenced as a Sidecar manifest']);
  });

  it("rejects two sidecars with one name in a variant", async () => {
    const issues = await issuesOf({
      "scenario.yaml": scenario("- { name: twice, sidecars: [one.yaml, two.yaml], entry: proxy.ingress }"),
      "primary.yaml": PRIMARY,
      "one.yaml": proxySidecar("proxy", "{ ingress: 15001 }"),
      "two.yaml": proxySidecar("proxy", "{ ingress: 15002 }"),
    });
    expect(issues).toEqual([
      'scenario.yaml:7:43 spec.variants[0].sidecars[1]: sidecar name "proxy" (metadata.name in two.yaml) is already taken in this variant by spec.variants[0].sidecars[0]; container names in a pod must be unique',
    ]);
  });

  it("rejects a proxy upstream that is not in the variant's pod, at the sidecar's line", async () => {
    const issues = await issuesOf({
      "scenario.yaml": scenario(
        "- { name: chain, sidecars: [outer.yaml, inner.yaml], entry: outer.ingress }",
        "- { name: alone, sidecars: [outer.yaml], entry: outer.ingress }",
      ),
      "primary.yaml": PRIMARY,
      "outer.yaml": proxySidecar("outer", "{ ingress: 15001 }", "inner.ingress"),
      "inner.yaml": proxySidecar("inner", "{ ingress: 15002 }", "primary.grpc"),
    });
    expect(issues).toEqual([
      'inner.yaml:8:39 spec.proxy.upstream: in variant "chain" of scenario.yaml: container "primary" has no port "grpc" (ports: http)',
      `outer.yaml:8:39 spec.proxy.upstream: in variant "alone" of scenario.yaml: container "inner" is not in this variant's pod (containers: primary, outer)`,
    ]);
  });

  it("rejects two containers of a pod declaring the same port number", async () => {
    const issues = await issuesOf({
      "scenario.yaml": scenario("- { name: clash, sidecars: [proxy.yaml], entry: proxy.ingress }"),
      "primary.yaml": PRIMARY,
      "proxy.yaml": proxySidecar("proxy", "{ ingress: 15001, admin: 8000 }"),
    });
    expect(issues).toEqual([
      'scenario.yaml:7:33 spec.variants[0].sidecars[0]: port 8000 ("admin" of "proxy") is also port "http" of "primary": containers in a pod share localhost, so give them different numbers',
    ]);
  });
});

describe("loadScenario: variants with their own primary, and spec.comparison", () => {
  const OTHER_MODEL = PRIMARY.replace("model: { name: mlp }", "model: { name: resnet }");
  const comparison = (columns: string) => `  comparison: ${columns}\n`;

  it("resolves a variant's own primary and defaults its entry to primary.http", async () => {
    const dir = await writeTree({
      "scenario.yaml": scenario("- { name: built-in, primary: built-in.yaml }"),
      "primary.yaml": PRIMARY,
      "built-in.yaml": PRIMARY.replace("name: server", "name: server-with-guard"),
    });
    const resolved = await loadScenario(join(dir, "scenario.yaml"));
    expect(resolved.variants[0]!.primary.manifest.metadata.name).toBe("server-with-guard");
    expect(resolved.variants[0]!.entry).toEqual({ container: "primary", port: "http" });
    expect(resolved.baseline.primary.manifest.metadata.name).toBe("server");
  });

  it("rejects a variant primary that serves another model", async () => {
    const issues = await issuesOf({ "scenario.yaml": scenario("- { name: other, primary: other.yaml }"), "primary.yaml": PRIMARY, "other.yaml": OTHER_MODEL });
    expect(issues).toEqual([
      'scenario.yaml:7:31 spec.variants[0].primary: other.yaml serves model "resnet", the scenario\'s primary serves "mlp": every arm must answer the same requests',
    ]);
  });

  it("checks that the comparison's columns name variants of the right shape", async () => {
    const text = scenario(
      "- { name: sidecar, sidecars: [proxy.yaml], entry: proxy.ingress }",
      "- { name: mono, primary: built-in.yaml }",
      "- { name: lib, sidecars: [proxy.yaml], entry: primary.http }",
    );
    const issues = await issuesOf({
      "scenario.yaml": text + comparison("{ sidecar: mono, monolithic: mono, library: libb }"),
      "primary.yaml": PRIMARY,
      "built-in.yaml": PRIMARY,
      "proxy.yaml": proxySidecar("proxy", "{ ingress: 15001 }"),
    });
    expect(issues).toEqual([
      'scenario.yaml:13:15 spec.comparison: sidecar, monolithic and library must name three different variants',
      'scenario.yaml:13:26 spec.comparison.sidecar: variant "mono" must run the function as a sidecar: at least one sidecar, and its entry on the sidecar that hosts the function',
      'scenario.yaml:13:59 spec.comparison.library: no variant is named "libb" (variants: sidecar, mono, lib) (did you mean "lib"?)',
    ]);
    const shapes = await issuesOf({
      "scenario.yaml": text + comparison("{ sidecar: sidecar, monolithic: mono, library: lib }"),
      "primary.yaml": PRIMARY,
      "built-in.yaml": PRIMARY,
      "proxy.yaml": proxySidecar("proxy", "{ ingress: 15001 }"),
    });
    expect(shapes).toEqual([
      'scenario.yaml:13:62 spec.comparison.library: variant "lib" must carry the function in its primary: a "primary" manifest of its own and no sidecars',
    ]);
  });
});

describe("findVariant", () => {
  it("finds declared variants and the implicit baseline, and names the choices otherwise", async () => {
    const resolved = await loadScenario(fixture("valid/scenario.yaml"));
    expect(findVariant(resolved, "baseline")).toBe(resolved.baseline);
    expect(findVariant(resolved, "envoy-and-logs").sidecars).toHaveLength(2);
    expect(() => findVariant(resolved, "envoy-and-log")).toThrow(
      /unknown variant "envoy-and-log" in .*scenario\.yaml \(variants: baseline, envoy, envoy-and-logs\) \(did you mean "envoy-and-logs"\?\)/,
    );
  });
});
