// The build module for the cluster's binaries: which staging modules k8s.io/kubernetes'
// go.mod requires at v0.0.0 (fixtures/: an excerpt of the real v1.34.4 go.mod), and the
// go.mod built from them, read back by the Go toolchain itself.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clusterLayout, KUBERNETES_STAGING_VERSION, KUBERNETES_VERSION } from "./cluster-layout.ts";
import { binaryPath, buildGoMod, kubernetesBinariesCurrent, stagingModules } from "./kubernetes-build.ts";

const goMod = readFileSync(new URL("./fixtures/kubernetes-v1.34.4-go.mod", import.meta.url), "utf8");
const dir = mkdtempSync(join(tmpdir(), "kubernetes-build-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STAGING_REQUIRED = [
  "k8s.io/api",
  "k8s.io/apiextensions-apiserver",
  "k8s.io/apimachinery",
  "k8s.io/apiserver",
  "k8s.io/cli-runtime",
  "k8s.io/client-go",
  "k8s.io/cloud-provider",
  "k8s.io/cluster-bootstrap",
  "k8s.io/code-generator",
  "k8s.io/component-base",
  "k8s.io/component-helpers",
  "k8s.io/controller-manager",
  "k8s.io/cri-api",
  "k8s.io/cri-client",
  "k8s.io/csi-translation-lib",
  "k8s.io/dynamic-resource-allocation",
  "k8s.io/endpointslice",
  "k8s.io/externaljwt",
  "k8s.io/kms",
  "k8s.io/kube-aggregator",
  "k8s.io/kube-controller-manager",
  "k8s.io/kube-proxy",
  "k8s.io/kube-scheduler",
  "k8s.io/kubectl",
  "k8s.io/kubelet",
  "k8s.io/metrics",
  "k8s.io/mount-utils",
  "k8s.io/pod-security-admission",
  "k8s.io/sample-apiserver",
];

interface GoModJson {
  Module: { Path: string };
  Go: string;
  Require: Array<{ Path: string; Version: string }> | null;
  Replace: Array<{ Old: { Path: string; Version?: string }; New: { Path: string; Version?: string } }> | null;
}

/** A go.mod as the Go toolchain reads it (go mod edit -json: no network, no module cache). */
function goModJson(text: string): GoModJson {
  const module = mkdtempSync(join(dir, "module-"));
  writeFileSync(join(module, "go.mod"), text);
  return JSON.parse(execFileSync("go", ["mod", "edit", "-json"], { cwd: module, encoding: "utf8", env: { ...process.env, GOFLAGS: "", GOTOOLCHAIN: "local" } })) as GoModJson;
}

describe("stagingModules", () => {
  it("the modules k8s.io/kubernetes requires at v0.0.0, sorted", () => {
    expect(stagingModules(goMod)).toEqual(STAGING_REQUIRED);
  });

  it("exactly those it requires at v0.0.0 and replaces with its staging tree (per the Go toolchain's reading)", () => {
    const parsed = goModJson(goMod);
    const requiredAtZero = new Set(parsed.Require!.filter((r) => r.Version === "v0.0.0").map((r) => r.Path));
    const staged = new Set(parsed.Replace!.filter((r) => r.New.Path.startsWith("./staging/src/")).map((r) => r.Old.Path));
    expect(stagingModules(goMod)).toEqual([...requiredAtZero].filter((m) => staged.has(m)).sort());
    // Pseudo-versions (v0.0.0-2025…) and tagged k8s.io modules are real releases: left alone.
    expect(stagingModules(goMod)).not.toContain("k8s.io/kube-openapi");
    expect(stagingModules(goMod)).not.toContain("k8s.io/utils");
    expect(stagingModules(goMod)).not.toContain("k8s.io/gengo/v2");
    expect(stagingModules(goMod)).not.toContain("k8s.io/klog/v2");
  });

  it("an indirect requirement at v0.0.0 counts too; other hosts' modules do not", () => {
    expect(stagingModules("require (\n\tk8s.io/api v0.0.0 // indirect\n\texample.com/x v0.0.0\n)\n")).toEqual(["k8s.io/api"]);
  });
});

describe("buildGoMod", () => {
  it("requires k8s.io/kubernetes at the pinned release and replaces each staging module with its published release", () => {
    const parsed = goModJson(buildGoMod(STAGING_REQUIRED));
    expect(parsed.Module.Path).toBe("sidecar-bench/kubernetes-build");
    expect(parsed.Go).toBe("1.24.0");
    expect(parsed.Require).toEqual([{ Path: "k8s.io/kubernetes", Version: KUBERNETES_VERSION }]);
    expect(parsed.Replace).toEqual(STAGING_REQUIRED.map((path) => ({ Old: { Path: path }, New: { Path: path, Version: KUBERNETES_STAGING_VERSION } })));
  });

  it("the staging release matches the Kubernetes release (v1.x.y ↔ v0.x.y)", () => {
    expect(KUBERNETES_STAGING_VERSION).toBe(KUBERNETES_VERSION.replace(/^v1\./, "v0."));
  });
});

describe("kubernetesBinariesCurrent", () => {
  it("false while the binaries or the build stamp are missing (without asking Go)", async () => {
    const layout = clusterLayout({ stateDir: join(dir, "state"), cacheDir: join(dir, "cache") });
    expect(binaryPath(layout, "kubelet")).toBe(join(dir, "cache", "kubernetes", KUBERNETES_VERSION, "bin", "kubelet"));
    expect(await kubernetesBinariesCurrent(layout, { PATH: "" })).toBe(false);
  });
});
