// The certificate's environment fingerprint names the runtime's engine and the images
// of the certified manifests even though the checks' pods ran in another process; and it
// records the policy the verdicts were judged by.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { PAUSE_IMAGE } from "../runtime/docker/docker-images.ts";
import { dockerTestEngine } from "../runtime/docker/docker-test-engine.ts";
import { createRuntime } from "../runtime/create-runtime.ts";
import { policyRecord, suitePolicy } from "./certification-policy.ts";
import { assembleReport, prepareCertification } from "./certification.ts";
import { SUITE_CONFIG_VERSION } from "./suite-config.ts";
import { DEFAULT_REGISTRY, PRIMARY_MANIFEST, type EntryOptions } from "./entry-options.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const engine = await dockerTestEngine();

async function assembleFor(runtimeName: string, policyFile: string | null = null) {
  const options: EntryOptions = {
    sidecarFile: join(root, "reference/sidecars/good-proxy.yaml"),
    primaryFile: join(root, PRIMARY_MANIFEST),
    registryModule: join(root, DEFAULT_REGISTRY),
    policyFile,
    outDir: mkdtempSync(join(tmpdir(), "sb-certification-")),
    profiles: [],
    runId: "certification-test",
    runtime: runtimeName,
    secretSeed: "certification-test-seed",
  };
  const prepared = await prepareCertification(options);
  const { runtime, accounting, commandPath } = createRuntime({ name: runtimeName, workDir: options.outDir, projectRoot: root });
  return assembleReport({
    prepared,
    options,
    projectRoot: root,
    version: "0.0.0-test",
    records: [],
    interrupted: false,
    performance: { status: "not-measured", reason: "test" },
    accounting,
    commandPath,
    runtime,
  });
}

describe("assembleReport's policy", () => {
  it("records the policy file (path in the project, sha256, every effective value) and the suite config's version", async () => {
    const { report } = await assembleFor("local", join(root, "reference/policies/fixture-sidecars.yaml"));
    expect(report.policy).toMatchObject({ source: "file", file: "reference/policies/fixture-sidecars.yaml", name: "fixture-sidecars", suiteConfig: { version: SUITE_CONFIG_VERSION } });
    expect(report.policy.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(report.policy.thresholds.resources).toEqual({ ...suitePolicy().thresholds.resources, cpuPer1kRps: 2 });
    expect(report.policy.suiteConfig.values).toEqual(suitePolicy().suite);
  });

  it("records the suite's defaults, marked as such, when no policy file was given", async () => {
    const { report } = await assembleFor("local");
    expect(report.policy).toEqual({ ...policyRecord(suitePolicy(), root), source: "suite-defaults", file: null, sha256: null });
  });
});

describe("assembleReport's environment fingerprint", () => {
  it("has no engine and no images for the local runtime", async () => {
    const { report, fingerprintWarning } = await assembleFor("local");
    expect(fingerprintWarning).toBeNull();
    expect(report.environment.runtime).toBe("local");
    expect(report.environment.engineVersion).toBeUndefined();
    expect(report.environment.images).toBeUndefined();
  });

  it.skipIf(engine.skipReason !== null)("names the engine and the ids of the sidecar's, the primary's and the pause image on docker", async () => {
    const { report, fingerprintWarning } = await assembleFor("docker");
    expect(fingerprintWarning).toBeNull();
    expect(report.environment.engineVersion).toMatch(/^\d+\.\d+/);
    const images = report.environment.images ?? {};
    expect(Object.keys(images).sort()).toEqual([PAUSE_IMAGE, "sidecar-bench/node-sidecars:latest", "sidecar-bench/primary-fastapi:latest"].sort());
    for (const id of Object.values(images)) expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
