// `sidecar-bench doctor`: whether each runtime can run on this machine (or, for
// kubernetes, on the cluster of the current context) and what is
// missing, on one screen (or as JSON). Probes only, each bounded in time; it starts no
// pod, process or engine. Exit 0 when the default runtime (local) is usable, 1 otherwise.
import { dockerChecks } from "./doctor-docker.ts";
import { kubernetesChecks } from "./doctor-kubernetes.ts";
import { localChecks } from "./doctor-local.ts";
import { doctorExitCode, formatDoctorJson, formatDoctorText, type DoctorReport } from "./doctor-report.ts";

export interface DoctorCommandInput {
  projectRoot: string;
  version: string;
  json: boolean;
}

export async function doctorCommand(input: DoctorCommandInput): Promise<number> {
  const [local, docker, kubernetes] = await Promise.all([localChecks(input.projectRoot), dockerChecks(input.projectRoot), kubernetesChecks(input.projectRoot)]);
  const report: DoctorReport = {
    version: input.version,
    runtimes: [
      { runtime: "local", isDefault: true, available: true, checks: local },
      { runtime: "docker", isDefault: false, available: true, checks: docker },
      { runtime: "kubernetes", isDefault: false, available: true, checks: kubernetes },
    ],
  };
  process.stdout.write(input.json ? formatDoctorJson(report) : formatDoctorText(report));
  return doctorExitCode(report);
}
