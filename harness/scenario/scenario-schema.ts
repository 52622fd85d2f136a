// kind: Scenario — what to compare (a primary alone vs. variants with sidecars), under
// which load, and how to measure (trials, calibration, pinning, thresholds).
import { z } from "zod";
import { API_VERSION, EVEN_WITH_FIELD_ISSUES, asRecord, dnsLabel, durationMs, nonEmptyString, nonNegativeInt, positiveInt, positiveNumber, portRef, repeats } from "./fields.ts";
import { didYouMean } from "./did-you-mean.ts";
import { expected } from "./issue-messages.ts";

export const RUNTIMES = ["local", "docker", "kubernetes"] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

export const REQUEST_KINDS = ["infer", "generate_stream"] as const;
export const PAYLOAD_FORMATS = ["json", "binary"] as const;
/** KServe v2 tensor datatypes the load generator can synthesise. */
export const TENSOR_DATATYPES = ["FP32", "FP64", "INT32", "INT64"] as const;

/** HTTP header field names (RFC 9110 tokens), lowercase like HTTP/2 and Node send them. */
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** The implicit variant: client → primary.http, no sidecars. */
export const BASELINE_VARIANT = "baseline";

const manifestPath = z
  .string({ error: expected("a path to a manifest file, relative to this scenario file") })
  .min(1);

/** spec.thresholds.<variant>: limits on what a variant adds to the baseline (thresholds.ts judges them). */
export const THRESHOLD_METRICS = ["addedP50Ms", "addedP99Ms", "cpuPer1kRps", "memoryMiB"] as const;
export type ThresholdMetric = (typeof THRESHOLD_METRICS)[number];
/** spec.thresholds keys that are not variant names. */
export const GLOBAL_THRESHOLD_KEYS: readonly string[] = ["maxRateShortfallPct", "maxAddedP99Ms"];

const variantThresholds = z
  .strictObject({
    addedP50Ms: positiveNumber.optional().meta({ description: "Paired Δ of the latency's p50 against the baseline, in ms." }),
    addedP99Ms: positiveNumber.optional().meta({ description: "Paired Δ of the latency's p99 against the baseline, in ms." }),
    cpuPer1kRps: positiveNumber.optional().meta({ description: "Added pod vCPU per 1000 req/s (pod with the sidecars − the bare primary's, paired by round; role backends excluded)." }),
    memoryMiB: positiveNumber.optional().meta({ description: "The variant's sidecars' average memory during the measured window, in MiB." }),
  })
  .meta({ description: "Limits on what this variant adds to the baseline." });

const variant = z.strictObject({
  name: dnsLabel
    .refine((name) => name !== BASELINE_VARIANT, {
      error: `"${BASELINE_VARIANT}" is the implicit variant (client → primary.http); choose another name`,
    })
    .meta({ not: { const: BASELINE_VARIANT } }),
  primary: manifestPath
    .optional()
    .meta({ description: "A Primary manifest that replaces the scenario's primary in this variant's pod (e.g. the primary with a function built in); it must serve the same model." }),
  sidecars: z
    .array(manifestPath, { error: expected("a list of paths to Sidecar manifests") })
    .default([])
    .meta({ description: "Sidecar manifests, in start order; paths relative to this scenario file." }),
  entry: portRef
    .default("primary.http")
    .meta({ description: "Where clients send requests, as <container>.<port>, e.g. envoy.ingress (default primary.http)." }),
});

const tensor = z.strictObject({
  name: nonEmptyString,
  datatype: z.enum(TENSOR_DATATYPES),
  shape: z.array(positiveInt, { error: expected("a non-empty list of whole numbers > 0") }).min(1),
});

const headers = z
  .record(z.string().regex(HEADER_NAME, { error: expected("an HTTP header name (letters, digits, '-')") }), z.string({ error: expected("a string") }))
  .optional()
  .meta({ description: "Extra request headers sent with every request to every arm, e.g. an API key." });

const inferRequest = z
  .strictObject({
    kind: z.literal("infer"),
    protocol: z
      .enum(["http", "grpc"])
      .default("http")
      .meta({
        description:
          "http = KServe v2 REST; grpc = KServe v2 gRPC (inference.GRPCInferenceService ModelInfer, tensors in raw_input_contents) to the primary's grpc port, and through each variant's entry (a proxy must route HTTP/2 there; one that cannot is reported not supported for the workload).",
      }),
    model: nonEmptyString
      .optional()
      .meta({
        description:
          "The model to infer with (POST /v2/models/<model>/infer); default: the primary manifest's spec.model.name. Every arm's primary must serve it, e.g. identity_fp32 for a large tensor both reference primaries return unchanged.",
      }),
    format: z.enum(PAYLOAD_FORMATS).meta({ description: "json, or binary = Triton's binary tensor extension (http; gRPC tensors are always raw bytes)." }),
    inputs: z.array(tensor, { error: expected("a non-empty list of input tensors") }).min(1),
    outputs: z.array(nonEmptyString, { error: expected("a list of output names") }).optional(),
    headers,
  })
  .superRefine((value, ctx) => {
    const inputs = asRecord(value)?.["inputs"];
    if (!Array.isArray(inputs)) return;
    const names = inputs.map((input: unknown) => asRecord(input)?.["name"]);
    for (const { index, value: name, firstIndex } of repeats(names)) {
      if (typeof name === "string") {
        ctx.addIssue({ code: "custom", path: ["inputs", index, "name"], message: `input ${JSON.stringify(name)} is already defined at inputs[${firstIndex}]` });
      }
    }
  }, EVEN_WITH_FIELD_ISSUES)
  .meta({ description: "A unary KServe v2 infer request (POST /v2/models/<model>/infer)." });

/** Parameter values Triton's generate extension allows ($string | $number | $boolean). */
const generateParameter = z.union([z.string(), z.number(), z.boolean()], { error: expected("a string, number or true/false") });

const generateStreamRequest = z
  .strictObject({
    kind: z.literal("generate_stream"),
    model: nonEmptyString
      .optional()
      .meta({ description: "The model to generate with; default: the primary manifest's spec.model.generator, else its spec.model.name." }),
    prompt: z
      .string({ error: expected("a string") })
      .optional()
      .meta({ description: "text_input sent with every request; default: a fixed sentence. Exclusive with promptChars." }),
    promptChars: positiveInt
      .optional()
      .meta({ description: "Instead of prompt: a deterministic text_input of this many characters, derived from the seed." }),
    maxTokens: positiveInt.default(16).meta({ description: "parameters.max_tokens: tokens the model generates per request." }),
    tokenIntervalMs: z
      .number({ error: expected("a number of milliseconds ≥ 0") })
      .min(0)
      .optional()
      .meta({ description: "parameters.token_interval_ms: the reference primaries' time between tokens; omitted → the primary's default." }),
    parameters: z
      .record(z.string(), generateParameter)
      .optional()
      .meta({ description: "Further model-specific generate parameters, sent as they are (max_tokens and token_interval_ms come from the fields above)." }),
    headers,
  })
  .superRefine((value, ctx) => {
    const record = asRecord(value);
    if (record?.["prompt"] !== undefined && record["promptChars"] !== undefined) {
      ctx.addIssue({ code: "custom", path: ["promptChars"], message: "give either prompt or promptChars, not both" });
    }
    const parameters = asRecord(record?.["parameters"]);
    for (const key of ["max_tokens", "token_interval_ms"]) {
      if (parameters?.[key] !== undefined) {
        ctx.addIssue({ code: "custom", path: ["parameters", key], message: `set ${key === "max_tokens" ? "maxTokens" : "tokenIntervalMs"} instead of parameters.${key}` });
      }
    }
  }, EVEN_WITH_FIELD_ISSUES)
  .meta({ description: "A token stream: POST /v2/models/<model>/generate_stream (Triton's generate extension, Server-Sent Events); measures time to first token and inter-token latency." });

const request = z.discriminatedUnion("kind", [inferRequest, generateStreamRequest]);

const openLoad = z
  .strictObject({
    mode: z.literal("open"),
    arrival: z.enum(["constant", "poisson"]).default("poisson"),
    ratePerSec: positiveNumber,
    maxConnections: positiveInt.default(64),
    timeoutMs: durationMs.default(10_000),
  })
  .meta({ description: "Requests on a seeded schedule, independent of responses: for latency claims." });

const closedLoad = z
  .strictObject({
    mode: z.literal("closed"),
    connections: positiveInt,
    timeoutMs: durationMs.default(10_000),
  })
  .meta({ description: "N connections, each sending as soon as the last answer arrived: for capacity." });

const vegetaLoad = z
  .strictObject({
    mode: z.literal("vegeta"),
    ratePerSec: positiveNumber,
    maxConnections: positiveInt.default(64).meta({ description: "vegeta -max-connections: connections per arm; requests beyond them wait in vegeta's client, and that wait counts as latency." }),
    timeoutMs: durationMs.default(10_000).meta({ description: "vegeta -timeout: counted from vegeta's send, not from the scheduled time." }),
  })
  .meta({
    description:
      "Open loop sent by vegeta (an external load generator, run as a child process) on its constant-rate pacer (no Poisson arrivals); its per-request results fill the same histograms, latency counting from the scheduled send. local and docker runtimes.",
  });

const sweep = z
  .strictObject({
    ratesPerSec: z
      .array(positiveNumber, { error: expected("a list of at least two request rates") })
      .min(2)
      .refine((rates) => rates.every((rate, i) => i === 0 || rate > rates[i - 1]!), { error: "expected rising rates, each above the one before" })
      .optional()
      .meta({ description: "The open-loop rates visited, rising." }),
    fromPerSec: positiveNumber.optional().meta({ description: "Or a geometric ladder: the first rate…" }),
    toPerSec: positiveNumber.optional().meta({ description: "…the last rate…" }),
    steps: z.int({ error: expected("a whole number ≥ 2") }).min(2).max(20).optional().meta({ description: "…and how many rates, each the same ratio above the one before." }),
    kneeP99Factor: z
      .number({ error: expected("a number > 1") })
      .gt(1)
      .default(2)
      .meta({ description: "A rate is past the knee when its p99 is clearly (the whole 95% CI) above this multiple of the lightest rate's p99, or the rate was not kept, or requests failed." }),
  })
  .superRefine((value, ctx) => {
    const v = asRecord(value) ?? {};
    const ladder = ["fromPerSec", "toPerSec", "steps"].filter((k) => v[k] !== undefined);
    if (v["ratesPerSec"] !== undefined && ladder.length > 0) {
      ctx.addIssue({ code: "custom", path: [ladder[0]!], message: "give either ratesPerSec or fromPerSec/toPerSec/steps, not both" });
    } else if (v["ratesPerSec"] === undefined && ladder.length < 3) {
      ctx.addIssue({ code: "custom", path: [], message: "expected ratesPerSec, or all of fromPerSec, toPerSec and steps" });
    } else if (typeof v["fromPerSec"] === "number" && typeof v["toPerSec"] === "number" && v["toPerSec"] <= v["fromPerSec"]) {
      ctx.addIssue({ code: "custom", path: ["toPerSec"], message: `expected a rate above fromPerSec (${v["fromPerSec"]})` });
    }
  }, EVEN_WITH_FIELD_ISSUES)
  .meta({
    description:
      "A rate sweep: the paired rounds (warm-up, rounds, A/A arm) at each rate in turn, the open loop's ratePerSec replaced by each; reports latency against rate per arm with CIs, the Δ per rate, and each arm's knee. Open-loop (or vegeta) loads only.",
  });

const trials = z.strictObject({
  rounds: z.int({ error: expected("a whole number ≥ 2 (one trial cannot show variance)") }).min(2).default(10),
  durationMs: durationMs.default(5_000),
  minRequests: nonNegativeInt.default(500),
  warmupMs: nonNegativeInt.default(3_000),
  slotMs: durationMs
    .default(250)
    .meta({
      description:
        "Open loop: within a round the arms alternate in slots of this length (each arm gets durationMs in all), so they are measured under the same machine conditions; slotMs ≥ durationMs gives one plain trial per arm per round.",
    }),
});

const limits = z.strictObject({
  memoryMiB: positiveInt.optional(),
  cpus: positiveNumber.optional().meta({ description: "CPU quota in cores (0.5 = half a core)." }),
});

const comparison = z
  .strictObject({
    sidecar: dnsLabel.meta({ description: "The variant where the auxiliary function runs as a sidecar (its entry container hosts it)." }),
    monolithic: dnsLabel.meta({ description: "The variant whose primary has the function in its own code." }),
    library: dnsLabel.meta({ description: "The variant whose primary imports the function as a library." }),
    episodes: z
      .strictObject({
        ratePerSec: positiveNumber.default(100).meta({ description: "Open-loop rate to the variant's entry during an episode." }),
        probeRatePerSec: positiveNumber.default(25).meta({ description: "Open-loop rate straight to the primary (primary.http): what happens to the primary itself." }),
        beforeMs: durationMs.default(2_000).meta({ description: "Load before the fault: the reference for the primary's p99." }),
        observeMs: durationMs.default(6_000).meta({ description: "Load after the fault starts; recovery must happen within it to count." }),
        timeoutMs: durationMs.default(2_000),
        balloon: z.strictObject({ mibPerSec: positiveInt.default(256), maxMiB: positiveInt.default(2_048) }).prefault({}),
        spinSeconds: positiveNumber.max(60).default(3),
        limits: z
          .strictObject({
            aux: limits.prefault({ memoryMiB: 128, cpus: 0.5 }).meta({ description: "Limits on the sidecar container that hosts the function." }),
            primary: limits.prefault({ memoryMiB: 768, cpus: 1 }).meta({ description: "Limits on the primary container, in every variant." }),
          })
          .prefault({}),
      })
      .prefault({}),
    isolation: z
      .strictObject({
        minAvailabilityPct: z.number({ error: expected("a percentage from 0 to 100") }).min(0).max(100).default(99),
        maxP99Ratio: positiveNumber.default(3).meta({ description: "The primary's p99 during a fault may grow to at most this multiple of its p99 before it." }),
      })
      .prefault({})
      .meta({ description: "When the primary counts as unaffected by a misbehaving function — stated before running." }),
  })
  .meta({ description: "sidecar-bench compare: which variants are the sidecar, monolithic and library integrations of one function." });

const scenarioSpec = z
  .strictObject({
    runtime: z.enum(RUNTIMES).default("local"),
    terminationGracePeriodMs: durationMs.default(30_000),
    primary: manifestPath.meta({ description: "Path to the Primary manifest, relative to this scenario file." }),
    variants: z
      .array(variant, { error: expected("a non-empty list of variants") })
      .min(1)
      .meta({ description: "Pods to compare with the implicit baseline (client → primary.http)." }),
    workload: z.strictObject({
      request,
      load: z.discriminatedUnion("mode", [openLoad, closedLoad, vegetaLoad]),
    }),
    trials: trials.prefault({}),
    calibration: z.strictObject({ aa: z.boolean({ error: expected("true or false") }).default(true) }).prefault({}),
    comparison: comparison.optional(),
    seed: nonNegativeInt.default(1),
    pinning: z
      .strictObject({ mode: z.enum(["split", "none"]).default("split") })
      .prefault({})
      .meta({ description: "split = load generator on CPU 0, the pod on the other CPUs." }),
    placement: z
      .strictObject({
        loadGenerator: z.enum(["same-node", "other-node"]).default("same-node"),
      })
      .prefault({})
      .meta({
        description:
          "kubernetes runtime: the in-cluster load generator's pod runs on the node of the pods under test (same-node) or on another node (other-node, as Istio's benchmarks place their client; needs a second node).",
      }),
    sweep: sweep.optional(),
    thresholds: z
      .object({
        maxRateShortfallPct: z.number({ error: expected("a percentage from 0 to 100") }).min(0).max(100).default(2),
        maxAddedP99Ms: positiveNumber
          .optional()
          .meta({ description: "addedP99Ms for every variant that does not set its own." }),
      })
      // Every other key is a variant's name (DNS labels cannot clash with the two above).
      .catchall(variantThresholds)
      .prefault({})
      .meta({
        description:
          "SLOs judged after the run, in the spirit of k6's thresholds: per variant (by name) limits on what its sidecars add, each passing when the whole 95% CI is within the limit, failing when it is all above, inconclusive otherwise; `run` exits 1 on a failure (and on an inconclusive one with --strict) and writes them to junit.xml.",
      }),
  })
  .superRefine((spec, ctx) => {
    const load = asRecord(asRecord(asRecord(spec)?.["workload"])?.["load"]);
    if (asRecord(spec)?.["sweep"] !== undefined && load?.["mode"] === "closed") {
      ctx.addIssue({ code: "custom", path: ["sweep"], message: "a rate sweep needs an open-loop load (workload.load.mode open or vegeta): a closed loop has no rate to set" });
    }
    const variants = asRecord(spec)?.["variants"];
    if (!Array.isArray(variants)) return;
    const names = variants.map((v: unknown) => asRecord(v)?.["name"]);
    const valid = names.filter((n): n is string => typeof n === "string");
    for (const key of Object.keys(asRecord(asRecord(spec)?.["thresholds"]) ?? {})) {
      if (GLOBAL_THRESHOLD_KEYS.includes(key) || valid.includes(key)) continue;
      ctx.addIssue({
        code: "custom",
        path: ["thresholds", key],
        message: `${JSON.stringify(key)} is not a variant of this scenario${didYouMean(key, valid)}; valid: ${valid.join(", ")} (or ${GLOBAL_THRESHOLD_KEYS.join(", ")})`,
      });
    }
    for (const { index, value: name, firstIndex } of repeats(names)) {
      if (typeof name === "string") {
        ctx.addIssue({ code: "custom", path: ["variants", index, "name"], message: `variant name ${JSON.stringify(name)} is already used by variants[${firstIndex}]` });
      }
    }
  }, EVEN_WITH_FIELD_ISSUES);

export const scenarioSchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal("Scenario"),
    metadata: z.strictObject({
      name: dnsLabel,
      description: z.string({ error: expected("a string") }).optional(),
    }),
    spec: scenarioSpec,
  })
  .meta({ title: "sidecar-bench Scenario", description: "A primary, variants with sidecars, a workload and how to measure it." });

export type ScenarioManifest = z.output<typeof scenarioSchema>;
export type ScenarioManifestInput = z.input<typeof scenarioSchema>;
export type LoadModel = ScenarioManifest["spec"]["workload"]["load"];
export type RequestSpec = ScenarioManifest["spec"]["workload"]["request"];
export type InferRequestSpec = Extract<RequestSpec, { kind: "infer" }>;
export type GenerateStreamRequestSpec = Extract<RequestSpec, { kind: "generate_stream" }>;
export type ScenarioThresholds = ScenarioManifest["spec"]["thresholds"];
export type VariantThresholds = z.output<typeof variantThresholds>;
export type ComparisonSpec = NonNullable<ScenarioManifest["spec"]["comparison"]>;
