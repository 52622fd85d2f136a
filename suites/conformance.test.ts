// The vitest entry of a certification: `sidecar-bench certify` runs it through vitest's
// Node API, and CI can run it directly:
//   SIDECAR_BENCH_CERTIFY_SIDECAR=scenarios/sidecars/envoy.yaml npx vitest run --config vitest.conformance.config.ts
// Options come from the environment (harness/conformance/entry-options.ts): vitest
// runs this file in a worker, so flags cannot reach it otherwise.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { newRunId } from "../harness/cli/run-command.ts";
import { prepareCertification } from "../harness/conformance/certification.ts";
import { declareConformanceSuite } from "../harness/conformance/conformance-suite.ts";
import { CERTIFY_ENV, readEntryOptions, unsupportedRuntimeMessage } from "../harness/conformance/entry-options.ts";

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const options = readEntryOptions(process.env, projectRoot, newRunId);
// The secrets' seed stays in this process's memory: the local runtime's containers inherit
// the environment, and a sidecar under test must not be able to derive the secrets.
delete process.env[CERTIFY_ENV.secretSeed];
const runtimeProblem = unsupportedRuntimeMessage(options.runtime);
if (runtimeProblem) throw new Error(runtimeProblem);
declareConformanceSuite({ options, prepared: await prepareCertification(options), projectRoot });
