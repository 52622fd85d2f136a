// Templates in container commands and config files: manifests name ports, the
// runtime decides the numbers. Supported forms (single or double quotes):
//   {{ port 'admin' }}          a port of the same container
//   {{ port 'primary.http' }}   a port of another container of the pod
//   {{ host }}                  the address containers reach each other on
//   {{ volume 'logs' }}         the path of a pod volume the container mounts (spec.volumes)
//   {{ file 'envoy.yaml' }}     a config file next to the manifest, itself templated,
//                               written to the run's work dir; expands to its path
// Hand-written rather than a template engine: five directives, and every unknown
// one must be an error naming the file, which general engines make awkward.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { ProbeAction } from "./pod-runtime.ts";

export interface TemplateContext {
  /** Container whose command or file is being rendered (for unqualified port names). */
  container: string;
  /** Resolved port numbers: ports[container][portName]. */
  ports: Record<string, Record<string, number>>;
  host: string;
  /** Directory `{{ file }}` paths are relative to. */
  baseDir: string;
  /** Where rendered files are written. */
  outDir: string;
  /** Where the container sees outDir, when not at the same path (kubernetes: a ConfigMap's mount); `{{ file }}` expands to a path there. */
  mountedAt?: string;
  /** Paths of the pod volumes this container mounts, as it sees them: volumes[name]. */
  volumes?: Record<string, string>;
  /** Names the source in errors, e.g. "scenarios/sidecars/envoy.yaml: spec.container.command[2]". */
  origin: string;
}

export class TemplateError extends Error {
  override name = "TemplateError";
}

const DIRECTIVE = /\{\{\s*([a-z]+)(?:\s+(?:'([^']*)'|"([^"]*)"))?\s*\}\}/g;

export function renderTemplate(text: string, context: TemplateContext): string {
  return text.replace(DIRECTIVE, (match, directive: string, single?: string, double?: string) => {
    const argument = single ?? double;
    switch (directive) {
      case "port":
        return String(resolvePort(argument, context, match));
      case "host":
        return context.host;
      case "file":
        return renderFile(requireArgument(argument, context, match), context);
      case "volume":
        return resolveVolume(requireArgument(argument, context, match), context, match);
      default:
        throw new TemplateError(
          `${context.origin}: unknown template directive "${directive}" in ${match}; expected port, host, file or volume`,
        );
    }
  });
}

/**
 * A probe's action with its exec command rendered: the kubelet runs an exec probe inside
 * the container, so it names ports and volume paths as the container sees them.
 */
export function renderProbeAction(action: ProbeAction, render: (text: string, origin: string) => string): ProbeAction {
  return "exec" in action ? { exec: { command: action.exec.command.map((arg, i) => render(arg, `probe exec command[${i}]`)) } } : action;
}

export function resolvePort(reference: string | undefined, context: TemplateContext, match = "port"): number {
  const name = requireArgument(reference, context, match);
  const [container, port] = name.includes(".") ? name.split(".", 2) : [context.container, name];
  const containerPorts = context.ports[container!];
  if (!containerPorts) {
    throw new TemplateError(
      `${context.origin}: ${match} names container "${container}", which is not in this pod (containers: ${Object.keys(context.ports).join(", ")})`,
    );
  }
  const value = containerPorts[port!];
  if (value === undefined) {
    throw new TemplateError(
      `${context.origin}: ${match} names port "${port}" of "${container}", which declares only: ${Object.keys(containerPorts).join(", ") || "no ports"}`,
    );
  }
  return value;
}

function resolveVolume(name: string, context: TemplateContext, match: string): string {
  const path = context.volumes?.[name];
  if (path === undefined) {
    const mounted = Object.keys(context.volumes ?? {});
    throw new TemplateError(
      `${context.origin}: ${match} names volume "${name}", which container "${context.container}" does not mount (spec.volumes: ${mounted.join(", ") || "none"})`,
    );
  }
  return path;
}

function requireArgument(argument: string | undefined, context: TemplateContext, match: string): string {
  if (!argument) throw new TemplateError(`${context.origin}: ${match} needs a quoted argument, e.g. {{ port 'admin' }}`);
  return argument;
}

function renderFile(relativePath: string, context: TemplateContext): string {
  const source = resolve(context.baseDir, relativePath);
  let text: string;
  try {
    text = readFileSync(source, "utf8");
  } catch {
    throw new TemplateError(`${context.origin}: {{ file '${relativePath}' }} refers to ${source}, which cannot be read`);
  }
  const rendered = renderTemplate(text, { ...context, origin: source });
  mkdirSync(context.outDir, { recursive: true });
  const name = `${context.container}-${basename(relativePath)}`;
  writeFileSync(join(context.outDir, name), rendered);
  return join(context.mountedAt ?? context.outDir, name);
}
