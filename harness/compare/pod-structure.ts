// Deployment complexity, counted instead of claimed: what a variant's pod asks of whoever
// deploys it — containers, processes, ports, config files and their lines, start-up
// dependencies, probes and artifacts — read from the same specs the runtime starts.
import { readFileSync } from "node:fs";
import { basename, relative, resolve } from "node:path";
import type { ContainerSpec } from "../runtime/pod-runtime.ts";
import type { ResolvedVariant } from "../scenario/index.ts";
import type { PodStructure } from "./comparison-model.ts";

const FILE_TEMPLATE = /\{\{\s*file\s+'([^']+)'\s*\}\}/g;

/** Lines a person maintains: not blank, not a comment. */
export function configLines(text: string): number {
  return text.split("\n").filter((line) => {
    const trimmed = line.trim();
    return trimmed !== "" && !trimmed.startsWith("#") && !trimmed.startsWith("//");
  }).length;
}

function referencedFiles(container: ContainerSpec): string[] {
  const files: string[] = [];
  for (const arg of container.command) {
    for (const match of arg.matchAll(FILE_TEMPLATE)) files.push(resolve(container.baseDir, match[1]!));
  }
  return files;
}

function artifactOf(container: ContainerSpec): string {
  return container.image ?? basename(container.command[0] ?? "?");
}

export function podStructure(variant: ResolvedVariant, containers: ContainerSpec[], rootDir: string): PodStructure {
  const manifests = [...variant.sidecars.map((s) => s.file), variant.primary.file];
  const files = [...new Set([...manifests, ...containers.flatMap(referencedFiles)])];
  return {
    variant: variant.name,
    containers: containers.length,
    processes: containers.length,
    ports: containers.reduce((sum, c) => sum + Object.keys(c.ports).length, 0),
    configFiles: files.map((file) => ({ file: relative(rootDir, file), lines: configLines(readFileSync(file, "utf8")) })),
    // Native sidecars: each must pass its start-up probe before the next container (and the primary) starts.
    startupDependencies: containers.filter((c) => c.kind === "sidecar").length,
    probes: containers.reduce((sum, c) => sum + (c.probes.startup ? 1 : 0) + (c.probes.readiness ? 1 : 0), 0),
    artifacts: containers.map(artifactOf),
  };
}
