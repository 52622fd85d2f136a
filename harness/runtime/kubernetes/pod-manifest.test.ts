// podManifests, field by field, against what Kubernetes does with each field: native
// sidecars are init containers with restartPolicy Always and start in their order after
// every plain init container; probes are whole seconds; a startup probe gives up after
// failureThreshold × periodSeconds; httpGet passes on 200–399; limits equal to requests.
import { spawnSync } from "node:child_process";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { ContainerSpec, PodSpec, ProbeSpec } from "../pod-runtime.ts";
import { LABEL_POD, LABEL_ROLE } from "./kube-names.ts";
import { CONFIG_MOUNT_PATH, NET_INIT_CONTAINER, netInitCommand, podManifests, probeSeconds, readinessProbe, resourceRequirements, startupProbe, type ContainerRendering, type PodManifestInput } from "./pod-manifest.ts";

const probe = (action: ProbeSpec["action"], periodMs = 1_000, overrides: Partial<ProbeSpec> = {}): ProbeSpec => ({ action, periodMs, timeoutMs: 1_000, failureThreshold: 3, ...overrides });

function containerSpec(name: string, kind: ContainerSpec["kind"], overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return { name, kind, command: ["run", name], baseDir: "/project", ports: {}, probes: {}, startupTimeoutMs: 30_000, ...overrides };
}

const containers: ContainerSpec[] = [
  containerSpec("log_shipper", "sidecar", { ports: { metrics: 9_102 }, probes: { startup: probe({ tcp: { port: "metrics" } }, 250) } }),
  containerSpec("proxy", "sidecar", {
    ports: { ingress: 15_001, admin: 15_000, alias: 15_001 },
    probes: { startup: probe({ http: { port: "admin", path: "/ready" } }, 100), readiness: probe({ http: { port: "admin", path: "/ready", expectStatus: 204 } }, 2_600, { failureThreshold: 5 }) },
    resources: { memoryMiB: 128, cpus: 0.5 },
    startupTimeoutMs: 10_000,
  }),
  containerSpec("primary", "main", { ports: { http: 8_080 }, probes: { readiness: probe({ exec: { command: ["check", "--ready"] } }, 1_400) }, resources: { cpus: 2 } }),
  containerSpec("worker", "main"),
];

const spec: PodSpec = { name: "Pod_1", runId: "run-1", containers, terminationGracePeriodMs: 5_500 };

function rendering(name: string, overrides: Partial<ContainerRendering> = {}): ContainerRendering {
  return { command: [name, "--serve"], env: { ROLE: name }, image: `example/${name}:1`, imagePullPolicy: "IfNotPresent", ...overrides };
}

function input(overrides: Partial<PodManifestInput> = {}): PodManifestInput {
  return {
    spec,
    podName: "pod-1-abcde",
    namespace: "sidecar-bench-run-1",
    containerNames: { log_shipper: "log-shipper-12345", proxy: "proxy", primary: "primary", worker: "worker" },
    rendering: {
      log_shipper: rendering("log_shipper"),
      proxy: rendering("proxy", { command: ["envoy", "-c", `${CONFIG_MOUNT_PATH}/proxy-envoy.yaml`], imagePullPolicy: "Never" }),
      primary: rendering("primary", { env: { ROLE: "primary", SETTINGS: `${CONFIG_MOUNT_PATH}/settings.json` }, workingDir: "/opt/sidecar-bench/reference" }),
      worker: rendering("worker"),
    },
    configFiles: { "proxy-envoy.yaml": "static_resources: {}\n", "settings.json": "{}" },
    labels: { "sidecar-bench/run-id": "run-1" },
    netInitImage: { image: "sidecar-bench/base:abc", imagePullPolicy: "Never" },
    ...overrides,
  };
}

const { pod, configMap } = podManifests(input());
const podSpec = pod.spec!;
const byName = (name: string): V1Container => {
  const found = [...(podSpec.initContainers ?? []), ...podSpec.containers].find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name}`);
  return found;
};

describe("podManifests: containers", () => {
  it("the NAT init container first, then the sidecars as native sidecars in their start order; mains as containers", () => {
    expect(podSpec.initContainers!.map((c) => [c.name, c.restartPolicy])).toEqual([
      [NET_INIT_CONTAINER, undefined],
      ["log-shipper-12345", "Always"],
      ["proxy", "Always"],
    ]);
    expect(podSpec.containers.map((c) => [c.name, c.restartPolicy])).toEqual([
      ["primary", undefined],
      ["worker", undefined],
    ]);
  });

  it("the NAT init container: privileged, its image, the DNAT program for every declared port once, sorted", () => {
    const net = podSpec.initContainers![0]!;
    expect(net).toMatchObject({ image: "sidecar-bench/base:abc", imagePullPolicy: "Never", securityContext: { privileged: true } });
    expect(net.command).toEqual(netInitCommand([8_080, 9_102, 15_000, 15_001]));
    // It runs to completion before the sidecars: no probes, no restartPolicy of its own.
    expect(net.restartPolicy).toBeUndefined();
    expect(net.startupProbe ?? net.readinessProbe).toBeUndefined();
  });

  it("each container as rendered: image, pull policy, command, env, working directory", () => {
    expect(byName("proxy")).toMatchObject({ image: "example/proxy:1", imagePullPolicy: "Never", command: ["envoy", "-c", `${CONFIG_MOUNT_PATH}/proxy-envoy.yaml`], env: [{ name: "ROLE", value: "proxy" }] });
    expect(byName("primary").workingDir).toBe("/opt/sidecar-bench/reference");
    expect(byName("primary").env).toEqual([
      { name: "ROLE", value: "primary" },
      { name: "SETTINGS", value: `${CONFIG_MOUNT_PATH}/settings.json` },
    ]);
    expect(byName("worker")).not.toHaveProperty("workingDir");
    for (const c of [...podSpec.initContainers!.slice(1), ...podSpec.containers]) expect(c.terminationMessagePolicy).toBe("FallbackToLogsOnError");
  });

  it("declared ports once per number, TCP", () => {
    expect(byName("proxy").ports).toEqual([
      { containerPort: 15_001, protocol: "TCP" },
      { containerPort: 15_000, protocol: "TCP" },
    ]);
    expect(byName("worker").ports).toEqual([]);
  });

  it("a /tmp emptyDir of its own for each container (it outlives the container's restarts)", () => {
    const tmpOf = (name: string) => byName(name).volumeMounts!.find((m) => m.mountPath === "/tmp")!.name;
    const names = ["log-shipper-12345", "proxy", "primary", "worker"].map(tmpOf);
    expect(new Set(names).size).toBe(4);
    for (const name of names) expect(podSpec.volumes!.find((v) => v.name === name)).toEqual({ name, emptyDir: {} });
  });

  it("a spec without a main container is refused (a Pod needs one), as is a container without a rendering", () => {
    expect(() => podManifests(input({ spec: { ...spec, containers: containers.filter((c) => c.kind === "sidecar") } }))).toThrow(/Pod_1: Kubernetes needs at least one main container/);
    const { worker: _, ...withoutWorker } = input().rendering;
    expect(() => podManifests(input({ rendering: withoutWorker }))).toThrow(/no rendering for container "worker"/);
  });
});

describe("podManifests: probes", () => {
  it("http, tcp and exec probes to the container's own declared port numbers", () => {
    expect(byName("proxy").startupProbe).toMatchObject({ httpGet: { path: "/ready", port: 15_000 } });
    expect(byName("log-shipper-12345").startupProbe).toMatchObject({ tcpSocket: { port: 9_102 } });
    expect(byName("primary").readinessProbe).toMatchObject({ exec: { command: ["check", "--ready"] } });
    expect(byName("primary").startupProbe).toBeUndefined();
    expect(byName("worker").startupProbe ?? byName("worker").readinessProbe).toBeUndefined();
  });

  it("the exec probe's command is a copy (later changes to the spec do not reach the manifest)", () => {
    const command = ["check"];
    const made = readinessProbe(probe({ exec: { command } }), containerSpec("c", "main"));
    command.push("--changed");
    expect(made.exec!.command).toEqual(["check"]);
  });

  it("a probe naming a port its container does not declare is an error naming both", () => {
    expect(() => startupProbe(probe({ tcp: { port: "admin" } }), containerSpec("proxy", "sidecar", { ports: { http: 1 } }))).toThrow(/container "proxy": its probe names port "admin", which it does not declare/);
  });

  it.each([200, 204, 301, 399])("expectStatus %i fits httpGet (passes on 200–399)", (expectStatus) => {
    const made = readinessProbe(probe({ http: { port: "p", path: "/", expectStatus } }), containerSpec("c", "main", { ports: { p: 1 } }));
    expect(made.httpGet).toEqual({ path: "/", port: 1 });
  });

  it.each([100, 199, 400, 404, 503])("expectStatus %i cannot be an httpGet probe", (expectStatus) => {
    expect(() => readinessProbe(probe({ http: { port: "p", path: "/", expectStatus } }), containerSpec("c", "main", { ports: { p: 1 } }))).toThrow(
      new RegExp(`container "c": an http probe expecting status ${expectStatus} cannot be a Kubernetes httpGet probe, which passes on 200–399 only`),
    );
  });

  it.each([
    [1, 1],
    [100, 1],
    [999, 1],
    [1_000, 1],
    [1_400, 1],
    [1_500, 2],
    [2_600, 3],
    [60_000, 60],
  ])("periodMs %i → periodSeconds %i (whole seconds, at least 1)", (periodMs, periodSeconds) => {
    expect(probeSeconds(probe({ tcp: { port: "p" } }, periodMs)).periodSeconds).toBe(periodSeconds);
  });

  it.each([
    [1, 1],
    [500, 1],
    [1_000, 1],
    [1_001, 2],
    [2_500, 3],
  ])("timeoutMs %i → timeoutSeconds %i (never shorter than the spec's)", (timeoutMs, timeoutSeconds) => {
    expect(probeSeconds(probe({ tcp: { port: "p" } }, 1_000, { timeoutMs })).timeoutSeconds).toBe(timeoutSeconds);
  });

  it.each([
    [30_000, 1_000, 30],
    [10_000, 100, 10],
    [2_500, 1_000, 3],
    [5_000, 2_000, 3],
    [5_000, 2_600, 2],
    [500, 1_000, 1],
  ])("startup bound %i ms with a %i ms period: failureThreshold %i, so the kubelet gives up no earlier than the bound", (startupTimeoutMs, periodMs, failureThreshold) => {
    const made = startupProbe(probe({ tcp: { port: "p" } }, periodMs), containerSpec("c", "sidecar", { ports: { p: 1 }, startupTimeoutMs }));
    expect(made).toMatchObject({ failureThreshold, successThreshold: 1 });
    // failureThreshold × periodSeconds covers the bound, one try fewer would not.
    expect(made.failureThreshold! * made.periodSeconds! * 1000).toBeGreaterThanOrEqual(startupTimeoutMs);
    if (failureThreshold > 1) expect((made.failureThreshold! - 1) * made.periodSeconds! * 1000).toBeLessThan(startupTimeoutMs);
  });

  it("readiness: the spec's failureThreshold, successThreshold 1, the period and timeout in seconds", () => {
    expect(byName("proxy").readinessProbe).toEqual({ httpGet: { path: "/ready", port: 15_000 }, periodSeconds: 3, timeoutSeconds: 1, failureThreshold: 5, successThreshold: 1 });
    expect(byName("primary").readinessProbe).toEqual({ exec: { command: ["check", "--ready"] }, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 });
    expect(byName("proxy").startupProbe).toEqual({ httpGet: { path: "/ready", port: 15_000 }, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 10, successThreshold: 1 });
  });
});

describe("podManifests: resources", () => {
  it("limits in Mi and millicores, requests equal to limits (Guaranteed when both are set)", () => {
    expect(byName("proxy").resources).toEqual({ limits: { memory: "128Mi", cpu: "500m" }, requests: { memory: "128Mi", cpu: "500m" } });
    expect(byName("primary").resources).toEqual({ limits: { cpu: "2000m" }, requests: { cpu: "2000m" } });
    expect(byName("worker")).not.toHaveProperty("resources");
  });

  it("a fraction of a MiB stays a limit (in bytes): rounded to whole MiB, 0.4 would be 0, which Kubernetes takes for no limit", () => {
    expect(resourceRequirements(containerSpec("c", "main", { resources: { memoryMiB: 0.4 } }))!.limits).toEqual({ memory: String(Math.round(0.4 * 1024 * 1024)) });
    expect(resourceRequirements(containerSpec("c", "main", { resources: { memoryMiB: 100.5 } }))!.limits).toEqual({ memory: "105381888" });
  });

  it("the smallest CPU quota is 1m (Kubernetes' resolution)", () => {
    expect(resourceRequirements(containerSpec("c", "main", { resources: { cpus: 0.0001 } }))!.limits).toEqual({ cpu: "1m" });
    expect(resourceRequirements(containerSpec("c", "main", { resources: { cpus: 0.25 } }))!.limits).toEqual({ cpu: "250m" });
    expect(resourceRequirements(containerSpec("c", "main", { resources: {} }))).toBeUndefined();
  });
});

describe("podManifests: the pod", () => {
  it("name, namespace, the caller's labels plus the pod's and its role", () => {
    expect(pod.metadata).toEqual({ name: "pod-1-abcde", namespace: "sidecar-bench-run-1", labels: { "sidecar-bench/run-id": "run-1", [LABEL_POD]: "pod-1-abcde", [LABEL_ROLE]: "pod-under-test" } });
    expect(pod).toMatchObject({ apiVersion: "v1", kind: "Pod" });
  });

  it("one PID namespace, no service account token, no service links, the node's DNS", () => {
    expect(podSpec).toMatchObject({ shareProcessNamespace: true, automountServiceAccountToken: false, enableServiceLinks: false, dnsPolicy: "Default" });
    expect(podSpec).not.toHaveProperty("nodeSelector");
  });

  it("restartPolicy Never unless the spec says Always", () => {
    expect(podSpec.restartPolicy).toBe("Never");
    expect(podManifests(input({ spec: { ...spec, restartPolicy: "Always" } })).pod.spec!.restartPolicy).toBe("Always");
  });

  it.each([
    [0, 0],
    [1, 1],
    [1_000, 1],
    [1_001, 2],
    [5_500, 6],
    [30_000, 30],
  ])("terminationGracePeriodMs %i → %i s (never less grace than the spec's)", (terminationGracePeriodMs, seconds) => {
    expect(podManifests(input({ spec: { ...spec, terminationGracePeriodMs } })).pod.spec!.terminationGracePeriodSeconds).toBe(seconds);
  });
});

describe("podManifests: rendered files", () => {
  it("travel in a ConfigMap named after the pod, labelled as its config", () => {
    expect(configMap).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "pod-1-abcde-config", namespace: "sidecar-bench-run-1", labels: { "sidecar-bench/run-id": "run-1", [LABEL_POD]: "pod-1-abcde", [LABEL_ROLE]: "config" } },
      data: { "proxy-envoy.yaml": "static_resources: {}\n", "settings.json": "{}" },
    });
    expect(podSpec.volumes!.find((v) => v.name === "config")).toEqual({ name: "config", configMap: { name: "pod-1-abcde-config" } });
  });

  it("are mounted read-only only in containers whose command or env name the mount", () => {
    const configMount = (name: string) => byName(name).volumeMounts!.find((m) => m.name === "config");
    expect(configMount("proxy")).toEqual({ name: "config", mountPath: CONFIG_MOUNT_PATH, readOnly: true });
    expect(configMount("primary")).toEqual({ name: "config", mountPath: CONFIG_MOUNT_PATH, readOnly: true });
    expect(configMount("log-shipper-12345")).toBeUndefined();
    expect(configMount("worker")).toBeUndefined();
    expect(podSpec.initContainers![0]!.volumeMounts).toBeUndefined();
  });

  it("none rendered: no ConfigMap, no config volume, no mount", () => {
    const made = podManifests(input({ configFiles: {} }));
    expect(made.configMap).toBeNull();
    expect(made.pod.spec!.volumes!.map((v) => v.name)).not.toContain("config");
    expect([...made.pod.spec!.initContainers!, ...made.pod.spec!.containers].flatMap((c) => c.volumeMounts ?? []).map((m) => m.name)).not.toContain("config");
  });
});

describe("netInitCommand", () => {
  it("a POSIX shell program taking the ports as its arguments", () => {
    const [shell, flag, script, name, ...ports] = netInitCommand([8_080, 15_001]);
    expect([shell, flag, name, ports]).toEqual(["sh", "-c", NET_INIT_CONTAINER, ["8080", "15001"]]);
    expect(spawnSync("sh", ["-n", "-c", script!]).status).toBe(0);
    expect(script).toMatch(/^set -eu\n/);
  });

  it("lets the pod's network reach 127.0.0.1: route_localnet on, then one DNAT rule per port to 127.0.0.1:<port>", () => {
    const script = netInitCommand([])[2]!;
    expect(script).toContain("echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet");
    expect(script).toContain('for port in "$@"; do iptables -w 5 -t nat -A PREROUTING -p tcp --dport "$port" -j DNAT --to-destination "127.0.0.1:$port"; done');
    expect(netInitCommand([])).toHaveLength(4);
  });
});
