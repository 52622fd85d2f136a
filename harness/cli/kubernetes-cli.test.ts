// The kubernetes runtime through the real command line, on the project's cluster: a short
// scenario to the end (the in-cluster generator, the report naming the cluster), Ctrl-C
// mid-run (exit 130, finished trials kept, nothing of the run left on the cluster), and a
// cluster that does not answer (a bounded error naming it).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { KubeConnection } from "../runtime/kubernetes/kube-connection.ts";
import { runNamespace } from "../runtime/kubernetes/kube-names.ts";
import { kubernetesTestCluster } from "../runtime/kubernetes/kubernetes-test-cluster.ts";
import { runToEnd } from "./fixtures/run-cli.ts";
import { interruptRun, readResults } from "./fixtures/run-progress.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = join(root, "bin", "sidecar-bench.js");
const fixtures = join(root, "harness", "cli", "fixtures");
const cluster = await kubernetesTestCluster();
if (cluster.skipReason) console.warn(`kubernetes CLI tests skipped: ${cluster.skipReason}`);

/** Ctrl-C to exit: stopping the generator and two pods through the kubelet, deleting the namespace. */
const MAX_STOP_MS = 60_000;

async function namespaceGone(runId: string): Promise<boolean> {
  const { core } = KubeConnection.load({ kubeconfig: cluster.kubeconfig });
  return core.readNamespace({ name: runNamespace(runId) }).then(() => false, (error: { code?: number }) => error.code === 404);
}

describe.skipIf(cluster.skipReason !== null)("sidecar-bench run --runtime kubernetes", () => {
  it("runs a short scenario with its generator in the cluster, names the cluster in the report, and leaves nothing behind", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "sb-k8s-run-"));
    const outcome = await runToEnd(process.execPath, [bin, "run", join(fixtures, "smoke.yaml"), "--runtime", "kubernetes", "--kubeconfig", cluster.kubeconfig, "--out", outDir], {
      cwd: root,
      timeoutMs: 240_000,
    });
    expect(outcome.code, outcome.stderr).toBe(0);
    const results = readResults(outDir);
    expect(results.status).toBe("complete");
    expect(results.environment.runtime).toBe("kubernetes");
    expect(results.environment.loadGenerator).toMatch(/in pod sidecar-bench-.*\/sidecar-bench-loadgen-.* on node localhost/);
    expect(results.environment.cluster).toMatchObject({ serverVersion: expect.stringMatching(/^v1\.\d+\.\d+/), nodes: [{ name: "localhost" }] });
    expect(results.environment.accounting).toMatch(/^kubernetes: cgroup-v[12]/);
    const measured = results.trials.filter((t) => !t.warmup);
    expect(measured.length).toBeGreaterThan(0);
    expect(measured.every((t) => t.load.ok > 0)).toBe(true);
    expect(readFileSync(join(outDir, "report.md"), "utf8")).toContain("kubernetes");
    expect(await namespaceGone(results.runId)).toBe(true);
  }, 300_000);

  it("on Ctrl-C stops the pods and the generator, deletes the run's namespace, keeps the finished trials and exits 130", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "sb-k8s-sigint-"));
    const run = await interruptRun(bin, [join(fixtures, "long.yaml"), "--runtime", "kubernetes", "--kubeconfig", cluster.kubeconfig], outDir, {
      cwd: root,
      minTrials: 2,
      startTimeoutMs: 180_000,
      whileRunning: async (runId) => expect(await namespaceGone(runId)).toBe(false),
    });
    expect(run.exitCode, run.stderr).toBe(130);
    expect(run.stopMs).toBeLessThan(MAX_STOP_MS);
    const results = readResults(outDir);
    expect(results.status).toBe("interrupted");
    expect(results.trials.filter((t) => !t.warmup).length).toBeGreaterThanOrEqual(2);
    expect(await namespaceGone(run.runId)).toBe(true);
  }, 300_000);
});

describe("sidecar-bench run --runtime kubernetes without a cluster", () => {
  it("fails at once, naming the API server that does not answer and how to get a cluster", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-k8s-none-"));
    const kubeconfig = join(dir, "kubeconfig");
    // A loopback port nobody listens on: refused at once.
    writeFileSync(
      kubeconfig,
      "apiVersion: v1\nkind: Config\nclusters: [{name: gone, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: gone, context: {cluster: gone, user: u}}]\ncurrent-context: gone\n",
    );
    const outcome = await runToEnd(process.execPath, [bin, "run", join(fixtures, "smoke.yaml"), "--runtime", "kubernetes", "--kubeconfig", kubeconfig, "--out", join(dir, "out")], {
      cwd: root,
      timeoutMs: 60_000,
    });
    expect(outcome.timedOut).toBe(false);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(/the API server of context "gone" \(https:\/\/127\.0\.0\.1:1\) does not answer.*cluster up/);
    expect(outcome.stderr).not.toMatch(/\n\s+at /);
  }, 90_000);
});
