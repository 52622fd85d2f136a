// The connection to the Docker engine, through testcontainers' runtime client (which
// finds the engine as the docker CLI does: DOCKER_HOST, then the default socket).
// testcontainers moves on to the default socket when DOCKER_HOST does not answer; a
// user who set DOCKER_HOST meant that engine, so it is checked first and a dead one is
// an error naming it, never a silent run on another engine.
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

export async function connectDockerEngine(): Promise<DockerEngine> {
  disableRyuk();
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
        `start one with scripts/start-docker.sh (installs docker.io and starts dockerd), or point DOCKER_HOST at a running one`,
    );
  } finally {
    clearTimeout(timer);
  }
}
