// kind: Primary — the model server every variant shares; its `http` port is where the
// baseline's clients (and proxies' upstreams) send inference requests.
import { z } from "zod";
import { checkContainerSpec, containerSpecShape, declaredPorts } from "./container-schema.ts";
import { API_VERSION, EVEN_WITH_FIELD_ISSUES, asRecord, componentMetadata, dnsLabel } from "./fields.ts";
import { expected } from "./issue-messages.ts";

/**
 * What a primary offers the conformance checks beyond KServe v2 infer on spec.model: a check
 * that needs one the primary lacks is left out of a certification against it, with why.
 */
export const PRIMARY_FEATURES = {
  "debug-endpoints": "the reference primary's instruments: POST /v2/debug/echo (the request as received), /v2/debug/fail (a chosen error status), GET /v2/debug/pid",
  "identity-models": "identity_<datatype> models (fp32, fp64, int32, int64, uint8, bool, bytes) that return INPUT0 as OUTPUT0",
  "token-generation": "Triton's generate and generate_stream on spec.model.generator, paced by parameters.token_interval_ms",
  "role-emitters": "the PRIMARY_* environment switches that make it emit OTLP, Prometheus metrics, an access log file and read a secret file",
} as const;
export type PrimaryFeature = keyof typeof PRIMARY_FEATURES;

/** The port every primary serves inference on; the baseline variant's entry point. */
export const PRIMARY_HTTP_PORT = "http";

const primarySpec = z
  .strictObject({
    ...containerSpecShape,
    model: z.strictObject({
      name: z
        .string({ error: expected("a model name (letters, digits, '_', '.', '-'), as in /v2/models/<name>") })
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/),
      generator: z
        .string({ error: expected("a model name, as in /v2/models/<name>/generate_stream") })
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/)
        .optional()
        .meta({ description: "The model that serves generate and generate_stream (default: name). Triton's HTTP infer refuses decoupled models, so a token stream there is a model of its own." }),
    }),
    serves: z
      .array(z.enum(Object.keys(PRIMARY_FEATURES) as [PrimaryFeature, ...PrimaryFeature[]]), { error: expected(`a list of: ${Object.keys(PRIMARY_FEATURES).join(", ")}`) })
      .default([])
      .meta({ description: `What the conformance checks may use beyond infer on the model: ${Object.entries(PRIMARY_FEATURES).map(([k, v]) => `${k} = ${v}`).join("; ")}.` }),
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
