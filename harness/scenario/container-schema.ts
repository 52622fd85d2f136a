// The parts a Sidecar and a Primary share: how to run the process, its named ports,
// its probes and resource limits — the manifest side of runtime's ContainerSpec.
import { z } from "zod";
import { didYouMean } from "./did-you-mean.ts";
import { EVEN_WITH_FIELD_ISSUES, asRecord, commandLine, dnsLabel, durationMs, envVars, nonEmptyString, portName, portNumber, positiveInt, positiveNumber, uniqueList } from "./fields.ts";
import { expected } from "./issue-messages.ts";

export const container = z.strictObject({
  command: commandLine.meta({
    description: "Program and arguments. Templates: {{ port 'name' }}, {{ port 'container.name' }}, {{ host }}, {{ file 'relative/path' }}, {{ volume 'name' }}.",
  }),
  image: nonEmptyString.optional().meta({ description: "Image for the docker and kubernetes runtimes; the local runtime ignores it." }),
  env: envVars.optional(),
});

export const ports = z
  .record(portName, portNumber)
  .meta({ description: "Named ports. Configs refer to them by name through templates; the local runtime allocates free numbers." });

const PROBE_ACTIONS = ["http", "tcp", "exec"] as const;

/** Probes differ only in how often they poll by default (startup fast, readiness calmer). */
function probe(defaultPeriodMs: number) {
  return z
    .strictObject({
      http: z
        .strictObject({
          port: portName,
          // A regex rather than startsWith: JSON Schema has a pattern for it, not a format.
          path: z.string({ error: expected('a URL path starting with "/"') }).regex(/^\//),
          expectStatus: z.int({ error: expected("an HTTP status code from 100 to 599") }).min(100).max(599).optional(),
        })
        .optional(),
      tcp: z.strictObject({ port: portName }).optional(),
      exec: z.strictObject({ command: commandLine }).optional(),
      periodMs: durationMs.default(defaultPeriodMs),
      timeoutMs: durationMs.default(1_000),
      failureThreshold: positiveInt.default(3),
    })
    .superRefine((value, ctx) => {
      const given = PROBE_ACTIONS.filter((action) => asRecord(value)?.[action] !== undefined);
      if (given.length !== 1) {
        ctx.addIssue({
          code: "custom",
          path: [],
          message: `expected exactly one of http, tcp or exec, found ${given.length === 0 ? "none" : given.join(" and ")}`,
        });
      }
    }, EVEN_WITH_FIELD_ISSUES)
    // zod cannot express "exactly one of" from the refinement; editors still deserve it.
    .meta({ oneOf: PROBE_ACTIONS.map((action) => ({ required: [action] })) });
}

export const probes = z.strictObject({
  startup: probe(100).optional().meta({ description: "Passes once the container has really started; the next container starts only then." }),
  readiness: probe(500).optional().meta({ description: "Gates traffic: the pod is ready when every readiness probe passes." }),
});

export const resources = z.strictObject({
  memoryMiB: positiveNumber.optional(),
  cpus: positiveNumber.optional().meta({ description: "CPU quota in cores (0.5 = half a core)." }),
});

export const volumes = uniqueList(dnsLabel, "a list of volume names (lowercase letters, digits and '-')").meta({
  description:
    "Pod volumes this container mounts (a pod's volumes are the union over its containers), shared with the other containers that mount them. Paths through {{ volume 'name' }}: a per-pod directory (local, docker) or an emptyDir (kubernetes).",
});

/** Fields of `spec` common to Sidecar and Primary. */
export const containerSpecShape = {
  container,
  ports,
  volumes: volumes.optional(),
  probes: probes.optional(),
  startupTimeoutMs: durationMs.default(30_000),
  resources: resources.optional(),
};

type IssueSink = { addIssue(issue: { code: "custom"; path: PropertyKey[]; message: string }): void };

/** The declared port names of a (possibly invalid) spec, or undefined when `ports` itself is broken. */
export function declaredPorts(spec: Record<string, unknown>): string[] | undefined {
  const declared = asRecord(spec["ports"]);
  return declared === undefined ? undefined : Object.keys(declared);
}

/** `port "x" is not declared in spec.ports (declared: a, b) (did you mean "a"?)` */
export function undeclaredPortMessage(port: string, declared: readonly string[], where = "spec.ports"): string {
  const list = declared.length === 0 ? "none declared" : `declared: ${declared.join(", ")}`;
  return `port ${JSON.stringify(port)} is not declared in ${where} (${list})${didYouMean(port, declared)}`;
}

/**
 * Cross-field checks of a container spec: probes use declared ports, and two names do
 * not share a number (containers of a pod share localhost, so one number serves one port).
 * Written against `unknown` shapes because it runs even when sibling fields are invalid.
 */
export function checkContainerSpec(spec: Record<string, unknown>, ctx: IssueSink): void {
  const declared = declaredPorts(spec);
  if (declared === undefined) return;
  const probeSet = asRecord(spec["probes"]);
  for (const kind of ["startup", "readiness"] as const) {
    const probeSpec = asRecord(probeSet?.[kind]);
    for (const action of ["http", "tcp"] as const) {
      const port = asRecord(probeSpec?.[action])?.["port"];
      if (typeof port === "string" && !declared.includes(port)) {
        ctx.addIssue({ code: "custom", path: ["probes", kind, action, "port"], message: undeclaredPortMessage(port, declared) });
      }
    }
  }
  const byNumber = new Map<unknown, string>();
  for (const [name, number] of Object.entries(asRecord(spec["ports"]) ?? {})) {
    const other = byNumber.get(number);
    if (other !== undefined && typeof number === "number") {
      ctx.addIssue({ code: "custom", path: ["ports", name], message: `port number ${number} is already used by port ${JSON.stringify(other)}` });
    } else {
      byNumber.set(number, name);
    }
  }
}
