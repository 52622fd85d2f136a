// The contract between `certify` and the vitest entry (suites/conformance.test.ts):
// vitest runs the entry in a worker process, so options travel as environment
// variables. One module names them, parses them and writes them, so both sides agree.
import { newSecretSeed } from "./check-secrets.ts";
import { isAbsolute, join, resolve } from "node:path";
import type { Profile } from "./conformance-test.ts";
import { parseProfileList } from "./profiles.ts";
import { unavailableRuntimeMessage, type KubernetesRequest } from "../runtime/create-runtime.ts";

export const CERTIFY_ENV = {
  /** Sidecar manifest to certify (default scenarios/sidecars/envoy.yaml). */
  sidecar: "SIDECAR_BENCH_CERTIFY_SIDECAR",
  /** Comma list of profiles (default: every profile that applies to the sidecar's roles). */
  profiles: "SIDECAR_BENCH_CERTIFY_PROFILES",
  /** Report folder: verdicts.jsonl, conformance.yaml/json and the pods' logs (default reports/<run-id>). */
  out: "SIDECAR_BENCH_CERTIFY_OUT",
  /** Run id the pods are labelled with (default: a new one). */
  runId: "SIDECAR_BENCH_CERTIFY_RUN_ID",
  /** Primary manifest the sidecar is certified against (default: the FastAPI reference primary). */
  primary: "SIDECAR_BENCH_CERTIFY_PRIMARY",
  /** Pod runtime ("local" or "docker"). */
  runtime: "SIDECAR_BENCH_CERTIFY_RUNTIME",
  /** Module exporting CONFORMANCE_TESTS (default suites/registry.ts); the harness's own tests use fakes. */
  registry: "SIDECAR_BENCH_CERTIFY_REGISTRY",
  /** CertificationPolicy file the verdicts are judged by (default: the suite's policy). */
  policy: "SIDECAR_BENCH_CERTIFY_POLICY",
  /** The kubernetes runtime's options (kubeconfig, context, namespace, pod access), as JSON. */
  kubernetes: "SIDECAR_BENCH_CERTIFY_KUBERNETES",
  /** Seed of the secrets the checks put in the reference store (check-secrets.ts; default: a new random one). */
  secretSeed: "SIDECAR_BENCH_CERTIFY_SECRET_SEED",
} as const;

export const DEFAULT_SIDECAR = "scenarios/sidecars/envoy.yaml";
export const DEFAULT_REGISTRY = "suites/registry.ts";
export const PRIMARY_MANIFEST = "reference/primaries/fastapi-kserve/primary.yaml";

export interface EntryOptions {
  /** Absolute paths. */
  sidecarFile: string;
  primaryFile: string;
  registryModule: string;
  /** null: the suite's own policy. */
  policyFile: string | null;
  outDir: string;
  /** Empty: every applicable profile. */
  profiles: Profile[];
  runId: string;
  runtime: string;
  /** With runtime "kubernetes": which cluster and how to reach it. */
  kubernetes?: KubernetesRequest;
  /** Seed of the checks' secrets (check-secrets.ts); only in memory and in the worker's environment. */
  secretSeed: string;
}

/** Relative paths resolve against the project root, where `npx vitest` and `certify` both run from. */
export function readEntryOptions(env: Record<string, string | undefined>, projectRoot: string, newRunId: () => string): EntryOptions {
  const path = (value: string) => (isAbsolute(value) ? value : resolve(projectRoot, value));
  const runId = env[CERTIFY_ENV.runId] || newRunId();
  return {
    sidecarFile: path(env[CERTIFY_ENV.sidecar] || DEFAULT_SIDECAR),
    primaryFile: path(env[CERTIFY_ENV.primary] || PRIMARY_MANIFEST),
    registryModule: path(env[CERTIFY_ENV.registry] || DEFAULT_REGISTRY),
    policyFile: env[CERTIFY_ENV.policy] ? path(env[CERTIFY_ENV.policy]!) : null,
    outDir: path(env[CERTIFY_ENV.out] || join("reports", runId)),
    profiles: parseProfileList([env[CERTIFY_ENV.profiles] ?? ""]),
    runId,
    runtime: env[CERTIFY_ENV.runtime] || "local",
    ...(env[CERTIFY_ENV.kubernetes] ? { kubernetes: JSON.parse(env[CERTIFY_ENV.kubernetes]!) as KubernetesRequest } : {}),
    secretSeed: env[CERTIFY_ENV.secretSeed] || newSecretSeed(),
  };
}

export function entryEnvironment(options: EntryOptions): Record<string, string> {
  return {
    [CERTIFY_ENV.sidecar]: options.sidecarFile,
    [CERTIFY_ENV.primary]: options.primaryFile,
    [CERTIFY_ENV.profiles]: options.profiles.join(","),
    [CERTIFY_ENV.out]: options.outDir,
    [CERTIFY_ENV.runId]: options.runId,
    [CERTIFY_ENV.runtime]: options.runtime,
    [CERTIFY_ENV.registry]: options.registryModule,
    // Empty: the suite's policy (the variable must be cleared, or a caller's would leak into the worker).
    [CERTIFY_ENV.policy]: options.policyFile ?? "",
    [CERTIFY_ENV.kubernetes]: options.kubernetes ? JSON.stringify(options.kubernetes) : "",
    [CERTIFY_ENV.secretSeed]: options.secretSeed,
  };
}

export function unsupportedRuntimeMessage(runtime: string): string | null {
  const unavailable = unavailableRuntimeMessage(runtime);
  return unavailable ? `--runtime ${runtime}: ${unavailable}` : null;
}
