// The docker runtime's checks for `doctor`: is an engine reachable (through the same
// connection the runtime uses), does DOCKER_HOST itself answer, and which project images
// are on this machine, each against the tag scripts/build-images.mjs would give it now.
import { request } from "node:http";
import type Dockerode from "dockerode";
import { connectDockerEngine } from "../runtime/docker/docker-engine.ts";
import { BUILD_COMMAND, expectedImages, type ExpectedImage } from "./doctor-images.ts";
import { PROBE_TIMEOUT_MS, withTimeout } from "./doctor-probe.ts";
import type { DoctorCheck } from "./doctor-report.ts";

export async function dockerChecks(projectRoot: string, dockerHost = process.env.DOCKER_HOST): Promise<DoctorCheck[]> {
  const [engine, hostAnswer] = await Promise.all([
    withTimeout(connectDockerEngine(), PROBE_TIMEOUT_MS, "Docker engine").then(
      (connected) => ({ ok: true as const, connected }),
      (error: unknown) => ({ ok: false as const, error: (error as Error).message }),
    ),
    dockerHost ? pingDockerHost(dockerHost) : Promise.resolve(null),
  ]);
  if (!engine.ok) {
    return [
      { name: "engine", status: "fail", detail: engine.error },
      { name: "images", status: "info", detail: "not checked (no engine)" },
    ];
  }
  const checks: DoctorCheck[] = [
    { name: "engine", status: "ok", detail: `Docker ${engine.connected.serverVersion} (${dockerHost && hostAnswer === "ok" ? `DOCKER_HOST=${dockerHost}` : "default socket"})` },
  ];
  if (hostAnswer !== null && hostAnswer !== "ok") {
    // testcontainers tries DOCKER_HOST, then the default socket: a dead DOCKER_HOST would
    // silently put pods on another engine than the one asked for.
    checks.push({
      name: "DOCKER_HOST",
      status: "warn",
      detail: `${dockerHost} does not answer (${hostAnswer}); the engine above was found on the default socket instead`,
      fix: "fix or unset DOCKER_HOST",
    });
  }
  const expected = expectedImages(projectRoot);
  const statuses = await Promise.all(expected.map((image) => imageChecks(engine.connected.dockerode, image)));
  return [...checks, ...statuses.flat()];
}

/** "ok", or why the engine at DOCKER_HOST did not answer /_ping. TLS endpoints are not checked here. */
function pingDockerHost(dockerHost: string): Promise<string> {
  let target: { socketPath: string } | { host: string; port: number };
  try {
    const url = new URL(dockerHost);
    if (url.protocol === "unix:") target = { socketPath: url.pathname };
    else if (url.protocol === "tcp:" && !process.env.DOCKER_TLS_VERIFY) target = { host: url.hostname, port: Number(url.port || 2375) };
    else return Promise.resolve("ok");
  } catch {
    return Promise.resolve("not a URL");
  }
  return new Promise((settle) => {
    const ping = request({ ...target, path: "/_ping", timeout: PROBE_TIMEOUT_MS }, (response) => {
      response.resume();
      settle(response.statusCode === 200 ? "ok" : `HTTP ${response.statusCode}`);
    });
    ping.on("timeout", () => ping.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    ping.on("error", (error: NodeJS.ErrnoException) => settle(error.code ?? error.message));
    ping.end();
  });
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
