// What the docker runtime's tests need, for `npm test` (scripts/setup.mjs --docker;
// `npm run bench` never comes here): a Docker engine — started with
// scripts/start-docker.sh when none answers and this is root on Linux with apt-get — and
// the project's images (scripts/build-images.mjs, cached by content hash: seconds when
// nothing changed). Never fails the setup: without an engine the docker tests skip (or
// fail, under SIDECAR_BENCH_REQUIRE_DOCKER=1), and a failed build makes them fail with
// the build's error; either way this says why, once, before the tests run. Each step is
// bounded in time.
// Plain Node with no dependencies, like scripts/setup.mjs.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const INFO_TIMEOUT_MS = 20_000;
/** apt-get install docker.io and debootstrap, then dockerd's start (start-docker.sh waits 120 s for it). */
const START_TIMEOUT_MS = 6 * 60_000;
/**
 * A cold build: four debootstraps (the base; rsyslog, the node exporter and Prometheus,
 * 2–3 minutes each on a loaded 2-core machine), the primary's wheels, the layer images.
 * Cached: a few seconds.
 */
const BUILD_TIMEOUT_MS = 30 * 60_000;

const dockerCli = existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker";

function engineAnswers() {
  return spawnSync(dockerCli, ["info"], { stdio: "ignore", timeout: INFO_TIMEOUT_MS }).status === 0;
}

function hasAptGet() {
  return spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
}

function ended(result, what, timeoutMs) {
  if (result.error?.code === "ETIMEDOUT") return `${what} did not finish within ${timeoutMs / 1000} s`;
  if (result.error) return `${what} could not run (${result.error.message})`;
  if (result.status !== 0) return `${what} failed (exit ${result.status ?? result.signal}; its messages are above)`;
  return null;
}

/** null when an engine answers, else why there is none. */
function ensureEngine(root, say) {
  if (engineAnswers()) return null;
  if (process.platform !== "linux") return "no Docker engine answers (start Docker, or set DOCKER_HOST)";
  if (process.getuid?.() !== 0) return "no Docker engine answers, and starting one needs root (run scripts/start-docker.sh as root, or set DOCKER_HOST)";
  if (!hasAptGet()) return "no Docker engine answers, and scripts/start-docker.sh needs apt-get to install docker.io (install Docker, or set DOCKER_HOST)";
  say("docker: no engine answers; starting one with scripts/start-docker.sh");
  const result = spawnSync(join(root, "scripts", "start-docker.sh"), [], { stdio: ["ignore", "inherit", "inherit"], timeout: START_TIMEOUT_MS });
  const failure = ended(result, "scripts/start-docker.sh", START_TIMEOUT_MS);
  if (failure) return failure;
  return engineAnswers() ? null : "scripts/start-docker.sh finished, but `docker info` still gets no answer";
}

export function ensureDockerForTests({ root, say }) {
  const noEngine = ensureEngine(root, say);
  if (noEngine) {
    const consequence = process.env.SIDECAR_BENCH_REQUIRE_DOCKER
      ? "the docker runtime's tests will fail (SIDECAR_BENCH_REQUIRE_DOCKER is set)"
      : "the docker runtime's tests will skip (SIDECAR_BENCH_REQUIRE_DOCKER=1 makes them fail instead)";
    say(`docker: ${noEngine}; ${consequence}`);
    return;
  }
  const began = performance.now();
  const result = spawnSync(process.execPath, [join(root, "scripts", "build-images.mjs"), "--quiet"], {
    stdio: ["ignore", "inherit", "inherit"],
    timeout: BUILD_TIMEOUT_MS,
  });
  const failure = ended(result, "scripts/build-images.mjs", BUILD_TIMEOUT_MS);
  if (failure) {
    say(`docker: ${failure}; the docker runtime's tests will fail until "node scripts/build-images.mjs" succeeds`);
    return;
  }
  say(`docker: engine up, images ready (${((performance.now() - began) / 1000).toFixed(1)} s)`);
}
