// The environment fingerprint every result carries: what ran, where, with which versions.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, release, totalmem, type as osType } from "node:os";
import type { RuntimeDescription } from "../runtime/create-runtime.ts";

export interface EnvironmentFingerprint {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  kernel: string;
  node: string;
  python: string | null;
  envoy: string | null;
  loadGenerator: string;
  harnessVersion: string;
  scenarioSha256: string;
  runtime: string;
  /** The runtime's engine version (docker); absent for the local runtime. */
  engineVersion?: string;
  /** Image name → id of every image the pods ran (docker); absent for the local runtime. */
  images?: Record<string, string>;
  /** How the engine published the pods' ports (docker): a docker-proxy hop or the kernel's NAT. */
  portPublishing?: string;
  /** kubernetes: context, server version, nodes, how pods were reached, signalled and accounted, images. */
  cluster?: RuntimeDescription["cluster"];
  accounting: string;
  pinning: string;
}

export interface FingerprintInput {
  scenarioSha256: string;
  runtime: string;
  accounting: string;
  pinning: string;
  harnessVersion: string;
  loadGenerator: string;
  /** PATH used for the pod's commands, so versions are of the binaries that really ran. */
  path: string;
}

export function fingerprintEnvironment(input: FingerprintInput): EnvironmentFingerprint {
  return {
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${osType()} ${osRelease()}`.trim(),
    kernel: release(),
    node: process.version,
    python: versionOf(["python", "--version"], input.path),
    envoy: versionOf(["envoy", "--version"], input.path)?.match(/\/(\d+\.\d+\.\d+)\//)?.[1] ?? null,
    loadGenerator: input.loadGenerator,
    harnessVersion: input.harnessVersion,
    scenarioSha256: input.scenarioSha256,
    runtime: input.runtime,
    accounting: input.accounting,
    pinning: input.pinning,
  };
}

/**
 * The fingerprint with what the runtime says of itself (describeRuntime), asked once its
 * pods have started. A runtime that cannot answer leaves the fingerprint as it was, and
 * the reason is returned for the run's warnings: a fingerprint is no reason to fail a run.
 */
export async function withRuntimeDescription(
  fingerprint: EnvironmentFingerprint,
  describe: () => Promise<RuntimeDescription>,
): Promise<{ fingerprint: EnvironmentFingerprint; error: string | null }> {
  let description: RuntimeDescription;
  try {
    description = await describe();
  } catch (error) {
    return { fingerprint, error: `the runtime could not describe itself for the environment fingerprint: ${(error as Error).message}` };
  }
  return {
    fingerprint: {
      ...fingerprint,
      ...(description.engineVersion !== undefined ? { engineVersion: description.engineVersion } : {}),
      ...(description.images !== undefined ? { images: { ...description.images } } : {}),
      ...(description.portPublishing !== undefined ? { portPublishing: description.portPublishing } : {}),
      ...(description.cluster !== undefined ? { cluster: description.cluster } : {}),
      ...(description.accounting !== undefined ? { accounting: description.accounting } : {}),
    },
    error: null,
  };
}

function versionOf(command: string[], path: string): string | null {
  try {
    const [file, ...args] = command;
    const output = execFileSync(file!, args, { env: { ...process.env, PATH: path }, timeout: 5_000, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return output.trim().split("\n")[0] || null;
  } catch {
    return null;
  }
}

function osRelease(): string {
  try {
    return readFileSync("/etc/os-release", "utf8").match(/^PRETTY_NAME="?([^"\n]*)"?/m)?.[1] ?? "";
  } catch {
    return "";
  }
}
