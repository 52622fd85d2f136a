// The fixture suite on the docker runtime: one faulty fixture per mechanism docker
// implements differently, and good-proxy (suites/support/fixture-suite.ts). Skips saying
// why without an engine; fails instead under SIDECAR_BENCH_REQUIRE_DOCKER=1 (CI).
import { dockerTestEngine } from "../harness/runtime/docker/docker-test-engine.ts";
import { runtimeFixtureSuite } from "./support/fixture-suite.ts";

const docker = await dockerTestEngine().then(
  (engine) => ({ skipReason: engine.skipReason, failure: null }),
  (error: Error) => ({ skipReason: null, failure: error }),
);
runtimeFixtureSuite("docker", docker, "a Docker engine");
