// CPU and memory of a container from the kubelet's stats summary (through the API
// server's node proxy), when the harness is not on the node and cannot read the
// container's cgroup itself. The kubelet refreshes these figures every few seconds
// (cAdvisor's housekeeping), so short windows are coarse: reports say "kubernetes".
import type { KubeConnection } from "./kube-connection.ts";
import { firstLine } from "./kube-connection.ts";

interface Summary {
  pods?: Array<{
    podRef?: { name?: string; namespace?: string };
    containers?: Array<{ name: string; cpu?: { usageCoreNanoSeconds?: number }; memory?: { workingSetBytes?: number } }>;
  }>;
}

export class KubeletStats {
  constructor(private readonly connection: KubeConnection) {}

  async container(node: string, namespace: string, pod: string, container: string): Promise<{ cpuUsageUs: number; memoryBytes: number }> {
    if (!node) throw new Error(`pod ${namespace}/${pod} is not on a node yet: no stats`);
    let summary: Summary;
    try {
      // The client parses a JSON answer itself (declared as a string).
      const answer: unknown = await this.connection.core.connectGetNodeProxyWithPath({ name: node, path: "stats/summary" });
      summary = (typeof answer === "string" ? JSON.parse(answer) : answer) as Summary;
    } catch (error) {
      throw new Error(`the kubelet of ${node} gave no stats summary: ${firstLine(error)}`);
    }
    const entry = summary.pods?.find((p) => p.podRef?.name === pod && p.podRef?.namespace === namespace)?.containers?.find((c) => c.name === container);
    if (!entry) throw new Error(`the kubelet of ${node} has no stats for ${namespace}/${pod}/${container} yet`);
    return { cpuUsageUs: (entry.cpu?.usageCoreNanoSeconds ?? 0) / 1000, memoryBytes: entry.memory?.workingSetBytes ?? 0 };
  }
}
