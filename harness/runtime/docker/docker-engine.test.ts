import { afterEach, describe, expect, it } from "vitest";
import { DockerEngineUnavailableError, connectDockerEngine, remoteDockerHostProblem } from "./docker-engine.ts";
import { dockerTestEngine } from "./docker-test-engine.ts";

const engine = await dockerTestEngine();
const savedDockerHost = process.env.DOCKER_HOST;

afterEach(() => {
  if (savedDockerHost === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = savedDockerHost;
});

describe("remoteDockerHostProblem", () => {
  it("accepts unset, unix sockets and loopback TCP", () => {
    for (const host of [undefined, "", "unix:///var/run/docker.sock", "unix:///run/user/1000/docker.sock", "tcp://127.0.0.1:2375", "tcp://localhost:2376", "tcp://[::1]:2375"]) {
      expect(remoteDockerHostProblem(host), String(host)).toBeNull();
    }
  });

  it("refuses an engine on another machine, and a DOCKER_HOST that is not a URL, naming it", () => {
    expect(remoteDockerHostProblem("tcp://192.0.2.10:2376")).toMatch(/DOCKER_HOST=tcp:\/\/192\.0\.2\.10:2376 names an engine on another machine/);
    expect(remoteDockerHostProblem("ssh://builder@ci.example")).toMatch(/another machine/);
    expect(remoteDockerHostProblem("docker.sock")).toMatch(/DOCKER_HOST=docker\.sock is not a URL/);
  });
});

describe("connectDockerEngine", () => {
  it("refuses a remote DOCKER_HOST at once, without connecting to it", async () => {
    process.env.DOCKER_HOST = "tcp://192.0.2.10:2376";
    const startedMs = performance.now();
    await expect(connectDockerEngine()).rejects.toThrow(/names an engine on another machine/);
    expect(performance.now() - startedMs).toBeLessThan(1_000);
  });

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
