// The connection to the Docker engine, through testcontainers' runtime client (which
// finds the engine as the docker CLI does: DOCKER_HOST, then the default socket).
// testcontainers moves on to the default socket when DOCKER_HOST does not answer; a
// user who set DOCKER_HOST meant that engine, so it is checked first and a dead one is
// an error naming it, never a silent run on another engine. The engine must be on this
// host: pods' ports are published on its 127.0.0.1 and their cgroups read here, so a
// DOCKER_HOST naming another machine is refused before any connection is made.
import Dockerode from "dockerode";
import { getContainerRuntimeClient, type ContainerRuntimeClient } from "testcontainers";

export class DockerEngineUnavailableError extends Error {
  override name = "DockerEngineUnavailableError";
}

export interface DockerEngine {
  client: ContainerRuntimeClient;
  dockerode: Dockerode;
  serverVersion: string;
}

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * testcontainers' Ryuk reaper is an image pulled from a registry, which is not reachable
 * offline; the docker runtime reaps by its own labels instead. testcontainers reads this
 * variable itself, so it has to be set in the process environment.
 */
export function disableRyuk(): void {
  process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
}

/** Why DOCKER_HOST cannot serve the docker runtime (an engine on another machine), or null. */
export function remoteDockerHostProblem(dockerHost: string | undefined): string | null {
  if (!dockerHost) return null;
  let url: URL;
  try {
    url = new URL(dockerHost);
  } catch {
    return `DOCKER_HOST=${dockerHost} is not a URL (expected unix:///path/to/docker.sock or tcp://127.0.0.1:<port>)`;
  }
  if (url.protocol === "unix:" || url.protocol === "npipe:") return null;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (["localhost", "127.0.0.1", "::1"].includes(host)) return null;
  return (
    `DOCKER_HOST=${dockerHost} names an engine on another machine; the docker runtime needs one on this host ` +
    `(it publishes pods' ports on this host's 127.0.0.1 and reads their cgroups here)`
  );
}

export async function connectDockerEngine(): Promise<DockerEngine> {
  disableRyuk();
  const remote = remoteDockerHostProblem(process.env.DOCKER_HOST);
  if (remote) throw new DockerEngineUnavailableError(remote);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
  });
  try {
    const dockerHost = process.env.DOCKER_HOST;
    if (dockerHost) {
      // dockerode's modem reads DOCKER_HOST (and DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) as the CLI does.
      await Promise.race([new Dockerode().ping(), timeout]).catch((error: unknown) => {
        throw new Error(`DOCKER_HOST=${dockerHost} does not answer: ${(error as Error).message}`);
      });
    }
    const client = await Promise.race([getContainerRuntimeClient(), timeout]);
    const dockerode = client.container.dockerode;
    await Promise.race([dockerode.ping(), timeout]);
    return { client, dockerode, serverVersion: String(client.info.containerRuntime.serverVersion) };
  } catch (error) {
    throw new DockerEngineUnavailableError(
      `the docker runtime needs a Docker engine, and none is reachable (${(error as Error).message}); ` +
        `start one with scripts/start-docker.sh (installs docker.io and starts dockerd; \`npm run setup -- --docker\` runs it and builds the project's images too), or point DOCKER_HOST at a running one`,
    );
  } finally {
    clearTimeout(timer);
  }
}
