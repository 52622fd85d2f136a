// The connection to the Docker engine, through testcontainers' runtime client (which
// finds the engine as the docker CLI does: DOCKER_HOST, then the default socket).
import type Dockerode from "dockerode";
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

export async function connectDockerEngine(): Promise<DockerEngine> {
  disableRyuk();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
  });
  try {
    const client = await Promise.race([getContainerRuntimeClient(), timeout]);
    const dockerode = client.container.dockerode;
    await Promise.race([dockerode.ping(), timeout]);
    return { client, dockerode, serverVersion: String(client.info.containerRuntime.serverVersion) };
  } catch (error) {
    throw new DockerEngineUnavailableError(
      `the docker runtime needs a Docker engine, and none is reachable (${(error as Error).message}); ` +
        `start one with scripts/start-docker.sh (installs docker.io and starts dockerd), or set DOCKER_HOST`,
    );
  } finally {
    clearTimeout(timer);
  }
}
