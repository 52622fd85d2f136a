// kind: Primary — the model server every variant shares; its `http` port is where the
// baseline's clients (and proxies' upstreams) send inference requests.
import { z } from "zod";
import { checkContainerSpec, containerSpecShape, declaredPorts } from "./container-schema.ts";
import { API_VERSION, EVEN_WITH_FIELD_ISSUES, asRecord, componentMetadata, dnsLabel } from "./fields.ts";
import { expected } from "./issue-messages.ts";

/** The port every primary serves inference on; the baseline variant's entry point. */
export const PRIMARY_HTTP_PORT = "http";

const primarySpec = z
  .strictObject({
    ...containerSpecShape,
    model: z.strictObject({
      name: z
        .string({ error: expected("a model name (letters, digits, '_', '.', '-'), as in /v2/models/<name>") })
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/),
    }),
  })
  .superRefine((spec, ctx) => {
    const raw = asRecord(spec) ?? {};
    checkContainerSpec(raw, ctx);
    const declared = declaredPorts(raw);
    if (declared !== undefined && !declared.includes(PRIMARY_HTTP_PORT)) {
      ctx.addIssue({
        code: "custom",
        path: ["ports"],
        message: `expected a port named "${PRIMARY_HTTP_PORT}" (where inference requests go), found ${declared.length === 0 ? "no ports" : `only ${declared.join(", ")}`}`,
      });
    }
  }, EVEN_WITH_FIELD_ISSUES);

export const primarySchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal("Primary"),
    metadata: componentMetadata(dnsLabel),
    spec: primarySpec,
  })
  .meta({ title: "sidecar-bench Primary", description: "The model server (KServe v2 / Open Inference Protocol) in every pod." });

export type PrimaryManifest = z.output<typeof primarySchema>;
export type PrimaryManifestInput = z.input<typeof primarySchema>;
