// Reaps what earlier docker runs left when their harness died: every container and
// network (and volume) labelled with a run id whose owner process is gone.
import type Dockerode from "dockerode";
import { LABEL_CONTAINER, LABEL_POD, LABEL_RUN_ID, labelledOwnerAlive } from "./docker-labels.ts";

export async function reapDockerOrphans(dockerode: Dockerode): Promise<string[]> {
  const reaped: string[] = [];
  const filters = { label: [LABEL_RUN_ID] };
  const containers = await dockerode.listContainers({ all: true, filters });
  for (const info of containers.filter((c) => !labelledOwnerAlive(c.Labels))) {
    await dockerode.getContainer(info.Id).remove({ force: true, v: true }).catch(() => undefined);
    reaped.push(`container ${info.Id.slice(0, 12)} (run ${info.Labels[LABEL_RUN_ID]}, ${info.Labels[LABEL_POD] ?? "?"}/${info.Labels[LABEL_CONTAINER] ?? "?"})`);
  }
  // Networks after containers: a network with containers attached cannot be removed.
  for (const info of await dockerode.listNetworks({ filters })) {
    if (labelledOwnerAlive(info.Labels)) continue;
    await dockerode.getNetwork(info.Id).remove().catch(() => undefined);
    reaped.push(`network ${info.Name} (run ${info.Labels?.[LABEL_RUN_ID]})`);
  }
  const { Volumes: volumes } = await dockerode.listVolumes({ filters });
  for (const info of volumes ?? []) {
    if (labelledOwnerAlive(info.Labels)) continue;
    await dockerode.getVolume(info.Name).remove().catch(() => undefined);
    reaped.push(`volume ${info.Name} (run ${info.Labels?.[LABEL_RUN_ID]})`);
  }
  return reaped;
}
