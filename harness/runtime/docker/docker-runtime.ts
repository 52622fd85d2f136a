// The docker runtime: a pod is a pause container holding a network namespace and the
// pod's containers joined to it, started, probed, restarted and stopped in the order
// of Kubernetes native sidecars. Containers are created through testcontainers (with
// its Ryuk reaper off: its image cannot be pulled offline); every container and network
// carries the run id and the owner's pid, and reapOrphans removes those of dead owners.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_CONTAINER_LOG_MAX_BYTES } from "../logs/log-limits.ts";
import type { PodRuntime, PodSpec, StartedPod, StartPodOptions } from "../pod-runtime.ts";
import { type DockerEngine, connectDockerEngine } from "./docker-engine.ts";
import { PAUSE_IMAGE, imageFor, requireLocalImages } from "./docker-images.ts";
import { LABEL_RUN_ID, ownerLabels } from "./docker-labels.ts";
import { DockerPod } from "./docker-pod.ts";
import { reapDockerOrphans } from "./docker-reaper.ts";
import type { PortPublishing } from "./port-publishing.ts";

export interface DockerRuntimeOptions {
  /** Run files (rendered configs, container logs, /tmp of containers) go to <workDir>/<pod>/. */
  workDir: string;
  /** Cap of each container's log file (default DEFAULT_CONTAINER_LOG_MAX_BYTES, the kubelet's). */
  containerLogMaxBytes?: number;
}

export class DockerRuntime implements PodRuntime {
  private engine: Promise<DockerEngine> | null = null;
  private readonly pods = new Set<DockerPod>();
  private readonly networks = new Map<string, Promise<string>>();
  private readonly owner = ownerLabels();
  private readonly images: Record<string, string> = {};
  private publishing: PortPublishing | null = null;
  private readonly removeOnExit = () => {
    // 'exit' handlers run synchronously: the CLI's `docker rm -f` is the one way left.
    const ids = [...this.pods].flatMap((pod) => pod.containerIds());
    if (ids.length > 0) spawnSync(dockerCli(), ["rm", "-f", "-v", ...ids], { stdio: "ignore" });
  };

  constructor(private readonly options: DockerRuntimeOptions) {}

  getName(): string {
    return "docker";
  }

  accountingSource(): "docker" {
    return "docker";
  }

  /** Image ids by image name, of every image a pod of this runtime has run (for the environment fingerprint). */
  imageIds(): Record<string, string> {
    return { ...this.images };
  }

  /**
   * The images a run used, plus `declared` ones (those of manifests whose pods ran in
   * another process — certify's checks run in a vitest worker) and the pause image:
   * image id by name. An image that is not here is left out; its pods could not start.
   */
  async describeImages(declared: readonly string[] = []): Promise<Record<string, string>> {
    const { dockerode } = await this.connect();
    for (const image of [...declared, PAUSE_IMAGE]) {
      if (image in this.images) continue;
      const id = await dockerode.getImage(image).inspect().then((i) => i.Id, () => null);
      if (id) this.images[image] = id;
    }
    return { ...this.images };
  }

  /** How the engine published the pods' ports (docker-proxy or kernel NAT); null before a pod with ports ran. */
  portPublishing(): PortPublishing | null {
    return this.publishing;
  }

  /** Engine version, or the error saying how to start one. */
  async engineVersion(): Promise<string> {
    return (await this.connect()).serverVersion;
  }

  async startPod(spec: PodSpec, options: StartPodOptions = {}): Promise<StartedPod> {
    const { dockerode } = await this.connect();
    const imageByContainer = Object.fromEntries(spec.containers.map((c) => [c.name, imageFor(c)]));
    const users = new Map<string, string[]>();
    for (const [container, image] of Object.entries(imageByContainer)) users.set(image, [...(users.get(image) ?? []), container]);
    users.set(PAUSE_IMAGE, [...(users.get(PAUSE_IMAGE) ?? []), "the pod's pause container"]);
    Object.assign(this.images, await requireLocalImages(dockerode, users));
    const network = await this.runNetwork(spec.runId);
    const podDir = join(this.options.workDir, spec.name);
    mkdirSync(podDir, { recursive: true });
    const pod = new DockerPod(spec, {
      dockerode,
      podDir,
      network,
      images: imageByContainer,
      owner: this.owner,
      logMaxBytes: this.options.containerLogMaxBytes ?? DEFAULT_CONTAINER_LOG_MAX_BYTES,
      onStopped: () => this.forget(pod),
    });
    this.track(pod);
    try {
      const { onCreated } = options;
      await pod.start(options.readyTimeoutMs, onCreated && (() => onCreated(pod)));
    } catch (error) {
      await pod.stop();
      throw error;
    }
    this.publishing ??= pod.portPublishing();
    return pod;
  }

  /** Stops every pod this runtime started and removes the runs' networks (end of run, Ctrl-C). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.pods].map((pod) => pod.stop()));
    if (this.networks.size === 0) return;
    const { dockerode } = await this.connect();
    for (const network of this.networks.values()) {
      const id = await network.catch(() => null);
      if (id) await dockerode.getNetwork(id).remove().catch(() => undefined);
    }
    this.networks.clear();
  }

  async reapOrphans(): Promise<string[]> {
    return reapDockerOrphans((await this.connect()).dockerode);
  }

  private connect(): Promise<DockerEngine> {
    // A failed connection is not kept, so an engine started meanwhile is found next time.
    this.engine ??= connectDockerEngine().catch((error: unknown) => {
      this.engine = null;
      throw error;
    });
    return this.engine;
  }

  /** One bridge network per run for the pods' pause containers, labelled for reaping. */
  private runNetwork(runId: string): Promise<string> {
    let network = this.networks.get(runId);
    if (!network) {
      network = this.connect().then(async ({ dockerode }) => {
        const created = await dockerode.createNetwork({
          Name: `sidecar-bench-${runId}`,
          Driver: "bridge",
          CheckDuplicate: true,
          Labels: { [LABEL_RUN_ID]: runId, ...this.owner },
        });
        return created.id;
      });
      this.networks.set(runId, network);
    }
    return network;
  }

  private track(pod: DockerPod): void {
    if (this.pods.size === 0) process.on("exit", this.removeOnExit);
    this.pods.add(pod);
  }

  private forget(pod: DockerPod): void {
    this.pods.delete(pod);
    if (this.pods.size === 0) process.off("exit", this.removeOnExit);
  }
}

function dockerCli(): string {
  return existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker";
}
