// Pod volumes on every runtime (one contract, three runtimes): a file one container writes
// into a volume is there for another container that mounts it, with its mode, and the
// harness finds it through volumePath(), exec probes name it by template; a container that does not mount a volume cannot
// name it.
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterLayout } from "../cluster/cluster-layout.ts";
import { DockerRuntime } from "./docker/docker-runtime.ts";
import { dockerTestEngine, ensureProjectImage } from "./docker/docker-test-engine.ts";
import { KubernetesRuntime } from "./kubernetes/kubernetes-runtime.ts";
import { kubernetesTestCluster } from "./kubernetes/kubernetes-test-cluster.ts";
import { LocalRuntime } from "./local/local-runtime.ts";
import type { ContainerSpec, PodRuntime, PodSpec } from "./pod-runtime.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const engine = await dockerTestEngine();
const cluster = await kubernetesTestCluster();

type RuntimeName = "local" | "docker" | "kubernetes";

function newRuntime(name: RuntimeName): PodRuntime {
  const workDir = mkdtempSync(join(tmpdir(), `sb-volumes-${name}-`));
  if (name === "docker") return new DockerRuntime({ workDir });
  if (name === "kubernetes") return new KubernetesRuntime({ workDir, projectRoot: root, target: { kubeconfig: cluster.kubeconfig }, localCluster: clusterLayout() });
  return new LocalRuntime({ workDir });
}

function shell(name: string, kind: ContainerSpec["kind"], script: string, volumes: string[]): ContainerSpec {
  return {
    name,
    kind,
    command: ["sh", "-c", script],
    baseDir: root,
    image: "sidecar-bench/node-sidecars:latest",
    ports: {},
    volumes,
    probes: {},
    startupTimeoutMs: 60_000,
  };
}

let counter = 0;
function pod(containers: ContainerSpec[]): PodSpec {
  return { name: `volumes${++counter}`, runId: `test-volumes-${process.pid}-${Date.now()}`, containers, terminationGracePeriodMs: 2_000 };
}

function volumeSuite(name: RuntimeName): void {
  const runtime = newRuntime(name);
  if (name === "docker") beforeAll(() => ensureProjectImage("node-sidecars"), 300_000);
  afterAll(() => runtime.stopAll(), 120_000);

  it("shares a volume between the containers that mount it, modes kept, and shows it to the harness", async () => {
    // The sidecar writes an owner-read-only file (as a secrets agent does); the main container,
    // started after it, copies what it reads into a second file.
    const started = await runtime.startPod(
      pod([
        {
          ...shell("writer", "sidecar", "umask 077; printf 'from-writer' > \"{{ volume 'shared' }}/note\"; chmod 0400 \"{{ volume 'shared' }}/note\"; exec sleep 600", ["shared"]),
          // An exec probe names the volume as the container sees it: rendered like the command.
          probes: { startup: { action: { exec: { command: ["test", "-s", "{{ volume 'shared' }}/note"] } }, periodMs: 100, timeoutMs: 1_000, failureThreshold: 3 } },
        },
        shell(
          "reader",
          "main",
          "for i in $(seq 1 200); do [ -f \"{{ volume 'shared' }}/note\" ] && break; sleep 0.05; done; " +
            "stat -c %a \"{{ volume 'shared' }}/note\" > \"{{ volume 'shared' }}/mode-seen\"; cat \"{{ volume 'shared' }}/note\" > \"{{ volume 'shared' }}/copy\"; exec sleep 600",
          ["shared", "scratch"],
        ),
      ]),
    );
    try {
      const dir = started.volumePath?.("shared");
      // Kubernetes shows a volume only on the node (through a running container's root).
      if (dir === undefined) {
        expect(name).toBe("kubernetes");
        return;
      }
      await expect.poll(() => existsSync(join(dir, "copy")) && readFileSync(join(dir, "copy"), "utf8"), { timeout: 20_000, interval: 50 }).toBe("from-writer");
      expect(readFileSync(join(dir, "mode-seen"), "utf8").trim()).toBe("400");
      expect(statSync(join(dir, "note")).mode & 0o777).toBe(0o400);
      // Volumes are per pod: the other one exists, and is not this one.
      expect(started.volumePath?.("scratch")).not.toBe(dir);
      expect(started.volumePath?.("absent")).toBeUndefined();
      // Like an emptyDir, a volume ends with its pod.
      await started.stop();
      expect(existsSync(dir)).toBe(false);
    } finally {
      await started.stop();
    }
  }, 120_000);

  it("refuses a volume the container does not mount, naming the container and its volumes", async () => {
    await expect(runtime.startPod(pod([shell("lonely", "main", "echo {{ volume 'shared' }}; exec sleep 600", [])]))).rejects.toThrow(
      /names volume "shared", which container "lonely" does not mount \(spec.volumes: none\)/,
    );
  }, 60_000);
}

describe("pod volumes: local runtime", () => volumeSuite("local"));
(engine.skipReason ? describe.skip : describe)(`pod volumes: docker runtime${engine.skipReason ? ` (skipped: ${engine.skipReason})` : ""}`, () => volumeSuite("docker"));
(cluster.skipReason ? describe.skip : describe)(`pod volumes: kubernetes runtime${cluster.skipReason ? ` (skipped: ${cluster.skipReason})` : ""}`, () =>
  volumeSuite("kubernetes"),
);
