// The docker runtime's checks for `doctor`: is an engine reachable (through the same
// connection the runtime uses, which refuses a dead or remote DOCKER_HOST), and which project images
// are on this machine, each against the tag scripts/build-images.mjs would give it now.
import type Dockerode from "dockerode";
import { connectDockerEngine } from "../runtime/docker/docker-engine.ts";
import { engineUsesUserlandProxy } from "../runtime/docker/port-publishing.ts";
import { BUILD_COMMAND, expectedImages, type ExpectedImage } from "./doctor-images.ts";
import { PROBE_TIMEOUT_MS, withTimeout } from "./doctor-probe.ts";
import type { DoctorCheck } from "./doctor-report.ts";

export async function dockerChecks(projectRoot: string, dockerHost = process.env.DOCKER_HOST): Promise<DoctorCheck[]> {
  // The runtime's own connection: a dead or remote DOCKER_HOST fails here with its reason (docker-engine.ts).
  const engine = await withTimeout(connectDockerEngine(), PROBE_TIMEOUT_MS, "Docker engine").then(
    (connected) => ({ ok: true as const, connected }),
    (error: unknown) => ({ ok: false as const, error: (error as Error).message }),
  );
  if (!engine.ok) {
    return [
      { name: "engine", status: "fail", detail: engine.error },
      { name: "images", status: "info", detail: "not checked (no engine)" },
    ];
  }
  const checks: DoctorCheck[] = [
    { name: "engine", status: "ok", detail: `Docker ${engine.connected.serverVersion} (${dockerHost ? `DOCKER_HOST=${dockerHost}` : "default socket"})` },
    portsCheck(engineUsesUserlandProxy()),
  ];
  const expected = expectedImages(projectRoot);
  const statuses = await Promise.all(expected.map((image) => imageChecks(engine.connected.dockerode, image)));
  return [...checks, ...statuses.flat()];
}

/** The userland proxy adds a user-space hop to every request: results on such an engine carry it. */
export function portsCheck(userlandProxy: boolean | null): DoctorCheck {
  if (userlandProxy === null) return { name: "ports", status: "info", detail: "how the engine publishes ports is not visible from here (no dockerd process on this host)" };
  if (!userlandProxy) return { name: "ports", status: "ok", detail: "published by the kernel's NAT (dockerd --userland-proxy=false)" };
  return {
    name: "ports",
    status: "warn",
    detail: "published through docker-proxy (the userland proxy): one more user-space hop on every request, some 0.1 ms here",
    fix: "restart dockerd with --userland-proxy=false (scripts/start-docker.sh starts it so)",
  };
}

async function imageId(dockerode: Pick<Dockerode, "getImage">, name: string): Promise<string | null> {
  try {
    return (await withTimeout(dockerode.getImage(name).inspect(), PROBE_TIMEOUT_MS, `image ${name}`)).Id;
  } catch {
    return null;
  }
}

const shortId = (id: string) => id.replace(/^sha256:/, "").slice(0, 12);

/** The image's :latest (and aliases) against the tag the build script would give it now. */
export async function imageChecks(dockerode: Pick<Dockerode, "getImage">, image: ExpectedImage): Promise<DoctorCheck[]> {
  const latest = `${image.repository}:latest`;
  const [latestId, hashId, aliasIds] = await Promise.all([
    imageId(dockerode, latest),
    image.hashTag ? imageId(dockerode, image.hashTag) : Promise.resolve(null),
    Promise.all(image.aliases.map((alias) => imageId(dockerode, alias))),
  ]);
  const judge = (name: string, id: string | null): DoctorCheck => {
    if (id === null) {
      return { name, status: image.required ? "fail" : "warn", detail: `missing: ${BUILD_COMMAND} (${image.neededFor})` };
    }
    if (image.hashTag === null) return { name, status: "warn", detail: `present (id ${shortId(id)}), freshness unknown: ${image.unknown}` };
    if (id === hashId) return { name, status: "ok", detail: `present, up to date (id ${shortId(id)}, tag :${image.hashTag.split(":")[1]})` };
    return { name, status: "warn", detail: `present (id ${shortId(id)}), stale (inputs changed): ${BUILD_COMMAND}` };
  };
  return [judge(latest, latestId), ...image.aliases.map((alias, i) => judge(alias, aliasIds[i]!))];
}
