// What the kubernetes runtime's tests need, for `npm test` (scripts/setup.mjs
// --kubernetes; `npm run bench` never comes here): the project's own single-node cluster
// (`sidecar-bench cluster up`), its Kubernetes binaries built once from the Go module
// proxy and cached (≈ 8 min cold on 2 cores). The build starts in the background as soon
// as node_modules exist, while the Python environment and the images are made; the
// cluster starts once both are done. Never fails the setup: without a cluster the
// kubernetes tests skip (or fail, under SIDECAR_BENCH_REQUIRE_KUBERNETES=1), and this
// says why, once. The user's kubeconfig is left alone: tests use the cluster's own.
// Plain Node with no dependencies, like scripts/setup.mjs.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";

/** The Go build of five programs, cold, on a busy 2-core machine. */
const BUILD_TIMEOUT_MS = 40 * 60_000;
/** apt-get of the host packages, the daemons' start, the images' import. */
const UP_TIMEOUT_MS = 15 * 60_000;

function unavailable() {
  if (process.platform !== "linux") return "the project's cluster runs on Linux only (use kind: kind-config.yaml)";
  if (process.getuid?.() !== 0) return "starting a kubelet and containerd needs root (run `sidecar-bench cluster up` as root, or use kind)";
  if (spawnSync("go", ["version"], { stdio: "ignore" }).status !== 0) return "the Go toolchain is needed to build the cluster's Kubernetes binaries";
  return null;
}

function consequence() {
  return process.env.SIDECAR_BENCH_REQUIRE_KUBERNETES
    ? "the kubernetes runtime's tests will fail (SIDECAR_BENCH_REQUIRE_KUBERNETES is set)"
    : "the kubernetes runtime's tests will skip (SIDECAR_BENCH_REQUIRE_KUBERNETES=1 makes them fail instead)";
}

/** Starts the binaries' build in the background; returns what finishes it (null when this machine cannot have the cluster). */
export function startKubernetesBuild({ root, say }) {
  const reason = unavailable();
  if (reason) {
    say(`kubernetes: ${reason}; ${consequence()}`);
    return null;
  }
  const began = performance.now();
  const child = spawn(process.execPath, [join(root, "bin", "sidecar-bench.js"), "cluster", "build"], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  const timer = setTimeout(() => child.kill("SIGKILL"), BUILD_TIMEOUT_MS);
  const done = new Promise((resolve) => {
    child.once("error", (error) => resolve(`cluster build could not run (${error.message})`));
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? null : `cluster build failed (exit ${code ?? signal}; its messages are above)`);
    });
  });
  return { done, began };
}

/** After the images exist: the cluster up (idempotent), its images imported. */
export async function finishKubernetesSetup({ root, say, build }) {
  if (!build) return;
  const failure = await build.done;
  if (failure) {
    say(`kubernetes: ${failure}; ${consequence()}`);
    return;
  }
  const up = spawnSync(process.execPath, [join(root, "bin", "sidecar-bench.js"), "cluster", "up", "--no-kubeconfig"], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    timeout: UP_TIMEOUT_MS,
  });
  if (up.status !== 0) {
    say(`kubernetes: \`sidecar-bench cluster up\` failed (${up.error?.code === "ETIMEDOUT" ? `no result within ${UP_TIMEOUT_MS / 60_000} min` : `exit ${up.status ?? up.signal}`}); ${consequence()}`);
    return;
  }
  say(`kubernetes: cluster ready (${((performance.now() - build.began) / 1000).toFixed(0)} s with the binaries' build)`);
}
