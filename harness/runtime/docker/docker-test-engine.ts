// For the docker runtime's tests: whether they can run. They skip (with the reason)
// only when no engine is reachable and SIDECAR_BENCH_REQUIRE_DOCKER is unset; CI sets
// it, so a missing engine fails there instead of passing silently. The images the
// tests use are built (or found cached) once per test file.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../project-root.ts";
import { connectDockerEngine } from "./docker-engine.ts";

const projectRoot = PROJECT_ROOT;

export interface DockerTestEngine {
  /** Why the tests skip, or null when they run. */
  skipReason: string | null;
}

export async function dockerTestEngine(): Promise<DockerTestEngine> {
  const required = Boolean(process.env.SIDECAR_BENCH_REQUIRE_DOCKER);
  try {
    await connectDockerEngine();
    return { skipReason: null };
  } catch (error) {
    if (required) throw error;
    return { skipReason: `no Docker engine reachable (${(error as Error).message.split(";")[0]}); set SIDECAR_BENCH_REQUIRE_DOCKER=1 to fail instead` };
  }
}

/** Builds (or finds cached) the named project image with scripts/build-images.mjs. */
export function ensureProjectImage(
  name: "node-sidecars" | "primary-fastapi" | "primary-triton" | "envoy" | "aux-proxy" | "caddy" | "prometheus" | "otelcol" | "rsyslog" | "node-exporter" | "consul-template",
): void {
  execFileSync(process.execPath, [join(projectRoot, "scripts", "build-images.mjs"), "--only", name], { stdio: ["ignore", "ignore", "inherit"] });
}
