// kind: Sidecar — one helper container, what it claims (roles, features) and what it
// says it costs (budgets). Roles and features decide which conformance tests apply;
// budgets are claims a certificate reports against the measured figures, never the
// bounds of a verdict (the certifier's policy sets those: policy-schema.ts).
import { z } from "zod";
import { checkContainerSpec, containerSpecShape, declaredPorts, undeclaredPortMessage } from "./container-schema.ts";
import { API_VERSION, EVEN_WITH_FIELD_ISSUES, asRecord, componentMetadata, dnsLabel, portName, portRef, positiveNumber, uniqueList } from "./fields.ts";
import { expected } from "./issue-messages.ts";

export const SIDECAR_ROLES = ["proxy", "telemetry", "logs", "secrets"] as const;
export type SidecarRole = (typeof SIDECAR_ROLES)[number];

/** Optional capabilities; tests of a feature a sidecar does not claim are `not-supported`, not failed. */
export const SIDECAR_FEATURES = [
  "binary-tensors",
  "large-bodies",
  "streaming",
  "graceful-drain",
  "header-passthrough",
  "keep-alive",
] as const;
export type SidecarFeature = (typeof SIDECAR_FEATURES)[number];

/** How a telemetry sidecar gets the primary's telemetry: OTLP/HTTP pushed to it, its /metrics scraped, or a textfile in the `metrics` volume. */
export const TELEMETRY_INGEST = ["otlp-http", "scrape", "textfile"] as const;
/** Where a telemetry sidecar delivers: OTLP/HTTP to the backend, an exposition Prometheus scrapes, or Prometheus remote-write. */
export const TELEMETRY_EXPORTS = ["otlp-http", "exposition", "remote-write"] as const;
export const TELEMETRY_SIGNALS = ["metrics", "traces"] as const;
export const LOG_EXPORTS = ["syslog-tcp", "otlp-http"] as const;
/** What a sidecar declares it does while its backend is down: keep what it could not send and send it later, or drop it (counted). */
export const BACKEND_DOWN_BEHAVIOURS = ["buffer", "drop"] as const;
/** What a secrets sidecar declares it does while the store is unreachable: keep the last secret file, or remove it (fail closed). */
export const STORE_DOWN_BEHAVIOURS = ["keep", "remove"] as const;

/** The pod volume each role's data passes through (the primary mounts it too; harness/scenario/role-wiring.ts). */
export const ROLE_VOLUMES = { logs: "logs", secrets: "secrets", textfile: "metrics" } as const;

/** The main container's name in every pod; a sidecar may not take it. */
export const PRIMARY_CONTAINER = "primary";
/** The role backends role-wiring.ts adds to pods of telemetry, logs and secrets sidecars. */
export const BACKEND_CONTAINER = "backend";
export const METRICS_BACKEND_CONTAINER = "metrics-backend";
const RESERVED_NAMES: Record<string, string> = {
  [PRIMARY_CONTAINER]: "the primary container",
  [BACKEND_CONTAINER]: "the role backend (telemetry, logs and secrets sidecars deliver to it)",
  [METRICS_BACKEND_CONTAINER]: "the Prometheus that scrapes a telemetry sidecar",
};

const sidecarName = dnsLabel
  .superRefine((name, ctx) => {
    const holder = RESERVED_NAMES[name];
    if (holder !== undefined) ctx.addIssue({ code: "custom", message: `"${name}" is reserved for ${holder}; choose another name` });
  })
  .meta({ not: { enum: Object.keys(RESERVED_NAMES) } });

const urlPath = z.string({ error: expected('a URL path starting with "/"') }).regex(/^\//);

const telemetryRole = z
  .strictObject({
    ingest: uniqueList(z.enum(TELEMETRY_INGEST), `a non-empty list of ${TELEMETRY_INGEST.join(", ")}`).min(1).meta({ description: "How the sidecar gets the primary's telemetry." }),
    otlpListen: portName.optional().meta({ description: "The sidecar's port the primary exports OTLP/HTTP to; required with ingest otlp-http." }),
    signals: uniqueList(z.enum(TELEMETRY_SIGNALS), `a list of ${TELEMETRY_SIGNALS.join(", ")}`)
      .default(["metrics"])
      .meta({ description: "OTLP signals the sidecar forwards (otlp-http ingest and export)." }),
    export: z.enum(TELEMETRY_EXPORTS, { error: expected(`one of ${TELEMETRY_EXPORTS.join(", ")}`) }).meta({ description: "Where the sidecar delivers what it got." }),
    exposition: z
      .strictObject({ port: portName, path: urlPath.default("/metrics") })
      .optional()
      .meta({ description: "The sidecar's Prometheus exposition; required with export: exposition." }),
    whenBackendDown: z.enum(BACKEND_DOWN_BEHAVIOURS, { error: expected(`one of ${BACKEND_DOWN_BEHAVIOURS.join(", ")}`) }),
  })
  .meta({ description: "Required for the telemetry role: how the sidecar is wired between the primary and the backend." });

const logsRole = z
  .strictObject({
    export: z.enum(LOG_EXPORTS, { error: expected(`one of ${LOG_EXPORTS.join(", ")}`) }).meta({ description: "How the sidecar ships the primary's log lines to the backend." }),
    whenBackendDown: z.enum(BACKEND_DOWN_BEHAVIOURS, { error: expected(`one of ${BACKEND_DOWN_BEHAVIOURS.join(", ")}`) }),
  })
  .meta({ description: `Required for the logs role; the sidecar follows {{ volume '${ROLE_VOLUMES.logs}' }}/access.log.` });

const secretsRole = z
  .strictObject({
    whenStoreDown: z.enum(STORE_DOWN_BEHAVIOURS, { error: expected(`one of ${STORE_DOWN_BEHAVIOURS.join(", ")}`) }),
  })
  .meta({ description: `Required for the secrets role; the sidecar writes {{ volume '${ROLE_VOLUMES.secrets}' }}/api-key from the store.` });

const sidecarSpec = z
  .strictObject({
    roles: uniqueList(z.enum(SIDECAR_ROLES), `a non-empty list of roles (${SIDECAR_ROLES.join(", ")})`).min(1).meta({ description: "Conformance profiles this sidecar is certified against." }),
    ...containerSpecShape,
    proxy: z
      .strictObject({
        listen: portName.meta({ description: "The port (of this sidecar) clients call." }),
        upstream: portRef.meta({ description: "Where it forwards to, as <container>.<port>, e.g. primary.http." }),
      })
      .optional()
      .meta({ description: "Required for the proxy role." }),
    telemetry: telemetryRole.optional(),
    logs: logsRole.optional(),
    secrets: secretsRole.optional(),
    features: uniqueList(z.enum(SIDECAR_FEATURES), `a list of features (${SIDECAR_FEATURES.join(", ")})`).optional(),
    budgets: z
      .strictObject({
        idleMemoryMiB: positiveNumber.optional(),
        cpuPer1kRps: positiveNumber.optional().meta({ description: "vCPU per 1000 requests per second." }),
        addedP99Ms: positiveNumber.optional(),
        addedP50Ms: positiveNumber.optional(),
        timeToReadyMs: positiveNumber.optional(),
      })
      .optional()
      .meta({ description: "What the sidecar claims it costs: certify reports each claim against the measured figure (claim holds / exceeded); the certifier's policy, not these, decides the verdicts." }),
  })
  .superRefine((spec, ctx) => {
    const raw = asRecord(spec) ?? {};
    checkContainerSpec(raw, ctx);
    const roles = raw["roles"];
    const proxy = asRecord(raw["proxy"]);
    for (const [role, shape] of Object.entries(ROLE_BLOCK_SHAPES)) {
      if (Array.isArray(roles) && roles.includes(role) && raw[role] === undefined) {
        ctx.addIssue({ code: "custom", path: [role], message: `missing required key "${role}" (roles include "${role}", so expected a mapping ${shape})` });
      }
    }
    const declared = declaredPorts(raw);
    const checkPort = (port: unknown, path: PropertyKey[]) => {
      if (declared !== undefined && typeof port === "string" && !declared.includes(port)) {
        ctx.addIssue({ code: "custom", path, message: undeclaredPortMessage(port, declared) });
      }
    };
    checkPort(proxy?.["listen"], ["proxy", "listen"]);
    checkTelemetryWiring(asRecord(raw["telemetry"]), ctx, checkPort);
    const mounted = Array.isArray(raw["volumes"]) ? (raw["volumes"] as unknown[]) : [];
    const needsVolume = (volume: string, path: PropertyKey[], why: string) => {
      if (!mounted.includes(volume)) ctx.addIssue({ code: "custom", path, message: `expected "${volume}" in spec.volumes: ${why}` });
    };
    if (asRecord(raw["logs"]) !== undefined) needsVolume(ROLE_VOLUMES.logs, ["volumes"], `the logs role follows the primary's access log in the "${ROLE_VOLUMES.logs}" volume`);
    if (asRecord(raw["secrets"]) !== undefined) needsVolume(ROLE_VOLUMES.secrets, ["volumes"], `the secrets role writes the primary's api-key into the "${ROLE_VOLUMES.secrets}" volume`);
    const ingest = asRecord(raw["telemetry"])?.["ingest"];
    if (Array.isArray(ingest) && ingest.includes("textfile")) needsVolume(ROLE_VOLUMES.textfile, ["volumes"], `telemetry ingest textfile reads the primary's textfile in the "${ROLE_VOLUMES.textfile}" volume`);
  }, EVEN_WITH_FIELD_ISSUES);

/** What each role's block looks like, for the message when a declared role lacks it. */
const ROLE_BLOCK_SHAPES: Record<string, string> = {
  proxy: "{listen: <port name>, upstream: <container>.<port>}",
  telemetry: "{ingest: [otlp-http|scrape|textfile], export: otlp-http|exposition|remote-write, whenBackendDown: buffer|drop, ...}",
  logs: "{export: syslog-tcp|otlp-http, whenBackendDown: buffer|drop}",
  secrets: "{whenStoreDown: keep|remove}",
};

function checkTelemetryWiring(
  telemetry: Record<string, unknown> | undefined,
  ctx: { addIssue(issue: { code: "custom"; path: PropertyKey[]; message: string }): void },
  checkPort: (port: unknown, path: PropertyKey[]) => void,
): void {
  if (telemetry === undefined) return;
  const ingest = telemetry["ingest"];
  if (Array.isArray(ingest) && ingest.includes("otlp-http") && telemetry["otlpListen"] === undefined) {
    ctx.addIssue({ code: "custom", path: ["telemetry", "otlpListen"], message: 'missing required key "otlpListen" (ingest includes otlp-http: the port the primary exports to)' });
  }
  checkPort(telemetry["otlpListen"], ["telemetry", "otlpListen"]);
  const exposition = asRecord(telemetry["exposition"]);
  if (telemetry["export"] === "exposition" && exposition === undefined) {
    ctx.addIssue({ code: "custom", path: ["telemetry", "exposition"], message: 'missing required key "exposition" (export is exposition: expected {port: <port name>, path: /metrics})' });
  }
  checkPort(exposition?.["port"], ["telemetry", "exposition", "port"]);
}

export const sidecarSchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal("Sidecar"),
    metadata: componentMetadata(sidecarName),
    spec: sidecarSpec,
  })
  .meta({ title: "sidecar-bench Sidecar", description: "A sidecar container to benchmark and certify." });

export type SidecarManifest = z.output<typeof sidecarSchema>;
export type SidecarManifestInput = z.input<typeof sidecarSchema>;
