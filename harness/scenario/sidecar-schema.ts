// kind: Sidecar — one helper container, what it claims (roles, features) and what it
// says it costs (budgets). Roles and features decide which conformance tests apply;
// budgets are claims a certificate reports against the measured figures, never the
// bounds of a verdict (the certifier's policy sets those: policy-schema.ts).
import { z } from "zod";
import { checkContainerSpec, containerSpecShape, declaredPorts, undeclaredPortMessage } from "./container-schema.ts";
import { API_VERSION, EVEN_WITH_FIELD_ISSUES, asRecord, componentMetadata, dnsLabel, portName, portRef, positiveNumber, repeats } from "./fields.ts";
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

/** The main container's name in every pod; a sidecar may not take it. */
export const PRIMARY_CONTAINER = "primary";

const sidecarName = dnsLabel
  .refine((name) => name !== PRIMARY_CONTAINER, {
    error: `"${PRIMARY_CONTAINER}" is reserved for the primary container; choose another name`,
  })
  .meta({ not: { const: PRIMARY_CONTAINER } });

function uniqueList<T extends string>(item: z.ZodType<T>, what: string) {
  return z
    .array(item, { error: expected(what) })
    .superRefine((values, ctx) => {
      for (const { index, value, firstIndex } of repeats(values)) {
        ctx.addIssue({ code: "custom", path: [index], message: `${JSON.stringify(value)} is already listed at [${firstIndex}]` });
      }
    })
    .meta({ uniqueItems: true });
}

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
    if (Array.isArray(roles) && roles.includes("proxy") && raw["proxy"] === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["proxy"],
        message: 'missing required key "proxy" (roles include "proxy", so expected a mapping {listen: <port name>, upstream: <container>.<port>})',
      });
    }
    const declared = declaredPorts(raw);
    const listen = proxy?.["listen"];
    if (declared !== undefined && typeof listen === "string" && !declared.includes(listen)) {
      ctx.addIssue({ code: "custom", path: ["proxy", "listen"], message: undeclaredPortMessage(listen, declared) });
    }
  }, EVEN_WITH_FIELD_ISSUES);

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
