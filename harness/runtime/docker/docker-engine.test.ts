import { afterEach, describe, expect, it } from "vitest";
import { DockerEngineUnavailableError, connectDockerEngine } from "./docker-engine.ts";
import { dockerTestEngine } from "./docker-test-engine.ts";

const engine = await dockerTestEngine();
const savedDockerHost = process.env.DOCKER_HOST;

afterEach(() => {
  if (savedDockerHost === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = savedDockerHost;
});

describe("connectDockerEngine", () => {
  // The engine on the default socket is up here, so a fallback to it would "work": the user meant DOCKER_HOST.
  it.skipIf(engine.skipReason !== null)("fails naming DOCKER_HOST when it does not answer, instead of using the default socket's engine", async () => {
    process.env.DOCKER_HOST = "unix:///tmp/sidecar-bench-no-engine.sock";
    const startedMs = performance.now();
    const error = await connectDockerEngine().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DockerEngineUnavailableError);
    expect((error as Error).message).toMatch(/DOCKER_HOST=unix:\/\/\/tmp\/sidecar-bench-no-engine\.sock does not answer/);
    expect(performance.now() - startedMs).toBeLessThan(11_000);
  });

  it.skipIf(engine.skipReason !== null)("connects through DOCKER_HOST when it names the running engine", async () => {
    process.env.DOCKER_HOST = "unix:///var/run/docker.sock";
    const connected = await connectDockerEngine();
    expect(connected.serverVersion).toMatch(/^\d+\.\d+/);
  });
});
