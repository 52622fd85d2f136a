// The cluster's Kubernetes binaries, built here from the Go module proxy (kind's node
// images cannot be pulled): a throwaway module requires k8s.io/kubernetes at the pinned
// release and replaces each staging module (k8s.io/api, client-go, …), which the main
// module names at v0.0.0, with its published release. Built once per version into the
// user's cache; later clones and `cluster up`s reuse the binaries (about 8 minutes cold
// on 2 cores, with some 6 GB of Go build cache).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { KUBERNETES_PROGRAMS, KUBERNETES_STAGING_VERSION, KUBERNETES_VERSION, type ClusterLayout } from "./cluster-layout.ts";

const run = promisify(execFile);
/** crictl's release for this Kubernetes minor version. */
export const CRI_TOOLS_VERSION = "v1.34.0";
const BUILD_TIMEOUT_MS = 60 * 60_000;
const STAMP_FILE = ".build-stamp";

export class KubernetesBuildError extends Error {
  override name = "KubernetesBuildError";
}

/** What the binaries were built from; a different stamp means build again. */
function buildStamp(goVersion: string): string {
  return JSON.stringify({ kubernetes: KUBERNETES_VERSION, staging: KUBERNETES_STAGING_VERSION, criTools: CRI_TOOLS_VERSION, go: goVersion, programs: BUILT_PROGRAMS });
}

const BUILT_PROGRAMS = [...KUBERNETES_PROGRAMS, "crictl"] as const;

export function binaryPath(layout: ClusterLayout, program: (typeof BUILT_PROGRAMS)[number]): string {
  return join(layout.binDir, program);
}

/** True when every binary is there and was built from the pinned sources with this Go. */
export async function kubernetesBinariesCurrent(layout: ClusterLayout, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const stampPath = join(layout.binDir, STAMP_FILE);
  if (!existsSync(stampPath) || !BUILT_PROGRAMS.every((p) => existsSync(binaryPath(layout, p)))) return false;
  return readFileSync(stampPath, "utf8") === buildStamp(await goVersion(env));
}

async function goVersion(env: NodeJS.ProcessEnv): Promise<string> {
  try {
    return (await run("go", ["env", "GOVERSION"], { env })).stdout.trim();
  } catch {
    throw new KubernetesBuildError("the Go toolchain is needed to build the cluster's Kubernetes binaries; install Go 1.24 or newer and put `go` on PATH");
  }
}

/** The staging modules k8s.io/kubernetes requires at v0.0.0 (it replaces them with ./staging in its own repository). */
export function stagingModules(kubernetesGoMod: string): string[] {
  const modules = new Set<string>();
  for (const match of kubernetesGoMod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+v0\.0\.0\s*(?:\/\/.*)?$/gm)) modules.add(match[1]!);
  return [...modules].sort();
}

export function buildGoMod(staging: readonly string[]): string {
  const replaces = staging.map((m) => `\t${m} => ${m} ${KUBERNETES_STAGING_VERSION}`).join("\n");
  return `module sidecar-bench/kubernetes-build\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes ${KUBERNETES_VERSION}\n\nreplace (\n${replaces}\n)\n`;
}

/** Keeps the programs' packages in the module graph for `go mod tidy`. */
const TOOLS_GO = `//go:build tools

package tools

import (
${KUBERNETES_PROGRAMS.map((p) => `\t_ "k8s.io/kubernetes/cmd/${p}"`).join("\n")}
)
`;

function versionLdflags(): string {
  const [major, minor] = KUBERNETES_VERSION.replace(/^v/, "").split(".");
  const pkg = "k8s.io/component-base/version";
  return [
    "-s",
    "-w",
    `-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ].join(" ");
}

/** Builds the binaries unless they are current. `say` gets one line per step. */
export async function ensureKubernetesBinaries(layout: ClusterLayout, say: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<{ built: boolean; seconds: number }> {
  const began = performance.now();
  if (await kubernetesBinariesCurrent(layout, env)) return { built: false, seconds: (performance.now() - began) / 1000 };
  const go = await goVersion(env);
  mkdirSync(layout.binDir, { recursive: true });
  // Modules only from the proxy, no cgo (no C toolchain needed), this Go and no other.
  const buildEnv = { ...env, CGO_ENABLED: "0", GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" };
  const inBuildDir = { cwd: layout.buildDir, env: buildEnv, timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 };
  try {
    say(`building Kubernetes ${KUBERNETES_VERSION} (${KUBERNETES_PROGRAMS.join(", ")}) from the Go module proxy with ${go}: about 8 min on 2 cores, once`);
    writeFileSync(join(layout.buildDir, "go.mod"), `module sidecar-bench/kubernetes-build\n\ngo 1.24.0\n`);
    const download = await run("go", ["mod", "download", "-json", `k8s.io/kubernetes@${KUBERNETES_VERSION}`], inBuildDir);
    const info = JSON.parse(download.stdout) as { GoMod?: string; Error?: string };
    if (!info.GoMod) throw new KubernetesBuildError(`go mod download k8s.io/kubernetes@${KUBERNETES_VERSION}: ${info.Error ?? "no go.mod"}`);
    writeFileSync(join(layout.buildDir, "go.mod"), buildGoMod(stagingModules(readFileSync(info.GoMod, "utf8"))));
    writeFileSync(join(layout.buildDir, "tools.go"), TOOLS_GO);
    await run("go", ["mod", "tidy"], inBuildDir);
    const packages = KUBERNETES_PROGRAMS.map((p) => `k8s.io/kubernetes/cmd/${p}`);
    await run("go", ["build", "-trimpath", "-ldflags", versionLdflags(), "-o", `${layout.binDir}/`, ...packages], inBuildDir);
    // crictl talks CRI to the cluster's containerd: sandboxes' teardown on `cluster down`, containers' pids.
    await run("go", ["install", "-trimpath", "-ldflags", "-s -w", `sigs.k8s.io/cri-tools/cmd/crictl@${CRI_TOOLS_VERSION}`], { ...inBuildDir, env: { ...buildEnv, GOBIN: layout.binDir, GOFLAGS: "" } });
  } catch (error) {
    if (error instanceof KubernetesBuildError) throw error;
    const failure = error as { stderr?: string; message: string; killed?: boolean };
    const detail = (failure.stderr ?? "").trim().split("\n").slice(-15).join("\n  ");
    throw new KubernetesBuildError(
      `building Kubernetes ${KUBERNETES_VERSION} in ${layout.buildDir} failed${failure.killed ? ` (no result within ${BUILD_TIMEOUT_MS / 60_000} min)` : ""}: ${detail || failure.message}`,
    );
  }
  writeFileSync(join(layout.binDir, STAMP_FILE), buildStamp(go));
  return { built: true, seconds: (performance.now() - began) / 1000 };
}
