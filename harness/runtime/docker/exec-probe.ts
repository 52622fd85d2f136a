// An exec probe inside the container (docker exec), as kubelet runs it: passes on exit 0.
import type Dockerode from "dockerode";
import type { ProbeResult } from "../probe.ts";
import type { DockerContainer } from "./docker-container.ts";

const POLL_MS = 20;

export async function execProbe(dockerode: Dockerode, container: DockerContainer, command: string[], timeoutMs: number): Promise<ProbeResult> {
  const id = container.containerIds.at(-1);
  const file = command[0] ?? "";
  if (!id || !container.running) return { ok: false, detail: `exec ${file}: container not running` };
  try {
    const exec = await dockerode.getContainer(id).exec({ Cmd: command, AttachStdout: false, AttachStderr: false });
    await exec.start({ Detach: true });
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const info = await exec.inspect();
      if (!info.Running) return { ok: info.ExitCode === 0, detail: `exec ${file}: exit ${info.ExitCode}` };
      if (performance.now() > deadline) return { ok: false, detail: `exec ${file}: timed out after ${timeoutMs} ms` };
      await new Promise((done) => setTimeout(done, POLL_MS));
    }
  } catch (error) {
    return { ok: false, detail: `exec ${file}: ${(error as Error).message}` };
  }
}
