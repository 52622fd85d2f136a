// proxy.large-bodies: requests and answers of 16 MiB and more pass the sidecar intact,
// however they are framed. Each try sends 16–24 MiB of random bytes through the sidecar
// and judges the answer byte for byte; the tries vary the framing both ways —
// Content-Length or chunked request bodies, answered with Content-Length (a binary
// tensor from the identity model) or chunked (the primary's echo, streamed back) — and
// the connection (kept-alive, fresh, two at once), so a proxy that mishandles only
// chunked bodies, only large answers or only some requests is caught.
//
// Cost: each try moves its bytes through the client, the sidecar and the primary both
// ways (≈ 20 MiB × 4 copies); what an answer must be is known without asking the
// primary each time (the identity model returns the tensor after a JSON header that
// depends only on the size, asked directly once per size; the echo returns the body).
import { randomBytes, randomInt } from "node:crypto";
import type { Dispatcher } from "undici";
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import { INFERENCE_HEADER_LENGTH } from "../../harness/load/kserve-request.ts";
import { describeResult, exchange, headerText, round, withAgent, type ExchangeRequest, type ExchangeResponse } from "../../harness/load/http-exchange.ts";
import { firstDifference, formatDifference, sha256Hex } from "../support/byte-diff.ts";
import { endpointsOf, PrimaryMisbehavedError, sidecarLogTail } from "../support/proxy-comparison.ts";
import { planTries, type PlannedTry } from "../support/try-plan.ts";
import { runTryPlan } from "../support/try-runner.ts";
import { TryTally } from "../support/try-tally.ts";

const MIB = 1024 * 1024;
/** Tensor sizes the tries cycle through: ≥ 16 MiB, odd tails so no power-of-two buffer boundary hides a cut. */
export const TENSOR_SIZES = [16 * MIB + 4_099, 20 * MIB + 1, 24 * MIB + 7] as const;
/** Chunks of the primary's streamed echo. */
const ECHO_CHUNK_BYTES = 65_536;
/** Two 24 MiB exchanges at once keep the harness, the sidecar and the primary within a few hundred MiB. */
const LARGE_CONCURRENCY = 2;

export type Framing = "length→tensor" | "chunked→tensor" | "chunked→chunked echo" | "length→chunked echo";
export const FRAMINGS: readonly Framing[] = ["length→tensor", "chunked→tensor", "chunked→chunked echo", "length→chunked echo"];

/** Per try: its framing and size, crossed with the delivery (which cycles with the attempt) so every combination occurs. */
export function shapeOf(attempt: number): { framing: Framing; tensorBytes: number } {
  return { framing: FRAMINGS[Math.floor(attempt / 4) % FRAMINGS.length]!, tensorBytes: TENSOR_SIZES[attempt % TENSOR_SIZES.length]! };
}

function tensorRequest(data: Buffer, chunked: boolean): ExchangeRequest {
  const header = Buffer.from(
    JSON.stringify({
      id: "large-body",
      inputs: [{ name: "INPUT0", shape: [1, data.length], datatype: "UINT8", parameters: { binary_data_size: data.length } }],
      parameters: { binary_data_output: true },
    }),
  );
  return {
    method: "POST",
    path: "/v2/models/identity_uint8/infer",
    headers: { "content-type": "application/octet-stream", [INFERENCE_HEADER_LENGTH]: String(header.length) },
    body: Buffer.concat([header, data]),
    chunked,
  };
}

function echoRequest(data: Buffer, chunked: boolean): ExchangeRequest {
  return { method: "POST", path: `/v2/debug/echo?chunk_bytes=${ECHO_CHUNK_BYTES}`, headers: { "content-type": "application/octet-stream" }, body: data, chunked };
}

interface Expected {
  status: number;
  contentType: string | undefined;
  headerLength: string | undefined;
  body: Buffer;
}

function summary(result: ExchangeResponse | undefined, durationMs?: number): Record<string, unknown> | undefined {
  if (!result) return undefined;
  return {
    status: result.status,
    bodyBytes: result.body.length,
    bodySha256: sha256Hex(result.body),
    framing: headerText(result.headers, "transfer-encoding") ?? `content-length ${headerText(result.headers, "content-length")}`,
    [INFERENCE_HEADER_LENGTH]: headerText(result.headers, INFERENCE_HEADER_LENGTH),
    durationMs: round(durationMs ?? result.durationMs),
  };
}

export const largeBodies: ConformanceTest = {
  id: "proxy.large-bodies",
  description:
    "bodies of 16–24 MiB pass the sidecar intact both ways, Content-Length and chunked request bodies, answered with Content-Length (a binary tensor) " +
    `and chunked (a streamed echo): status, content-type, ${INFERENCE_HEADER_LENGTH} and every byte as the primary answers`,
  profile: "proxy",
  level: "core",
  primaryServes: ["identity-models", "debug-endpoints"],
  features: ["large-bodies"],
  faultyFixture: "reference/sidecars/truncate-large.yaml",
  timeoutMs: 120_000,
  detection: exchangeClaim(
    DEFAULT_SUITE_CONFIG.triesPerExpectation,
    "exchange of 16–24 MiB (Content-Length or chunked request × Content-Length or chunked answer; kept-alive, fresh and concurrent connections)",
  ),
  async run(context) {
    const pod = await context.startPod();
    const endpoints = endpointsOf(context, pod);
    // Random bytes: a dropped, repeated or shifted block cannot line up by accident; each
    // try takes its own window of the pool, so no two tries send the same body.
    const pool = randomBytes(Math.max(...TENSOR_SIZES) + 65_536);
    const plan = planTries({ cases: 1, triesPerCase: context.config.triesPerExpectation, seed: randomInt(2 ** 31), concurrency: LARGE_CONCURRENCY });
    const tally = new TryTally(plan, ["large body"]);
    const framingTries: Record<string, { tries: number; failed: number }> = Object.fromEntries(FRAMINGS.map((f) => [f, { tries: 0, failed: 0 }]));
    await withAgent(async (agent) => {
      const directOptions = { dispatcher: agent, signal: context.signal, timeoutMs: context.config.largeBodyTimeoutMs };
      // What the primary answers for a tensor of each size: its JSON header, then the tensor.
      const tensorHeaders = new Map<number, { header: Buffer; answer: ExchangeResponse }>();
      const expectedTensorAnswer = async (data: Buffer): Promise<Expected> => {
        let known = tensorHeaders.get(data.length);
        if (!known) {
          const direct = await exchange(endpoints.direct, tensorRequest(data, false), directOptions);
          if (!direct.ok || direct.status !== 200) throw new PrimaryMisbehavedError(`the primary answered a ${data.length}-byte tensor with ${describeResult(direct)} directly, expected 200`);
          if (Buffer.compare(direct.body.subarray(direct.body.length - data.length), data) !== 0) {
            throw new PrimaryMisbehavedError("the primary's direct answer does not end with the tensor it was sent; identity_uint8 is broken");
          }
          known = { header: direct.body.subarray(0, direct.body.length - data.length), answer: direct };
          tensorHeaders.set(data.length, known);
        }
        return {
          status: 200,
          contentType: headerText(known.answer.headers, "content-type"),
          headerLength: headerText(known.answer.headers, INFERENCE_HEADER_LENGTH),
          body: Buffer.concat([known.header, data]),
        };
      };
      // The echo, asked directly once: it must return the body as it came, chunked.
      const echoCheck = pool.subarray(0, TENSOR_SIZES[0]);
      const echoed = await exchange(endpoints.direct, echoRequest(echoCheck, true), directOptions);
      if (!echoed.ok || echoed.status !== 200 || firstDifference(echoCheck, echoed.body) || headerText(echoed.headers, "transfer-encoding") !== "chunked") {
        throw new PrimaryMisbehavedError(`the primary's streamed echo answered ${describeResult(echoed)} directly, expected 200 with the ${echoCheck.length} bytes sent, chunked`);
      }
      const echoContentType = headerText(echoed.headers, "content-type");

      const prepare = async (entry: PlannedTry) => {
        const { framing, tensorBytes } = shapeOf(entry.attempt);
        const offset = (entry.attempt * 4_093) % 65_536;
        const data = pool.subarray(offset, offset + tensorBytes);
        const chunked = framing.startsWith("chunked");
        if (framing.endsWith("tensor")) return { framing, request: tensorRequest(data, chunked), expected: await expectedTensorAnswer(data) };
        return { framing, request: echoRequest(data, chunked), expected: { status: 200, contentType: echoContentType, headerLength: undefined, body: data } };
      };
      const send = async (entry: PlannedTry, prepared: { framing: Framing; request: ExchangeRequest; expected: Expected }, dispatcher: Dispatcher) => {
        const { framing, request, expected } = prepared;
        const viaSidecar = await exchange(endpoints.entry, request, { dispatcher, signal: context.signal, timeoutMs: context.config.largeBodyTimeoutMs });
        const problems: string[] = [];
        let detail: Record<string, unknown> | undefined;
        if (!viaSidecar.ok) {
          problems.push(`${framing}, ${request.body!.length}-byte request: ${describeResult(viaSidecar)}`);
        } else {
          if (viaSidecar.status !== expected.status) problems.push(`status ${viaSidecar.status}, directly ${expected.status}`);
          const contentType = headerText(viaSidecar.headers, "content-type");
          if (contentType !== expected.contentType) problems.push(`content-type ${JSON.stringify(contentType)}, directly ${JSON.stringify(expected.contentType)}`);
          const headerLength = headerText(viaSidecar.headers, INFERENCE_HEADER_LENGTH);
          if (headerLength !== expected.headerLength) problems.push(`${INFERENCE_HEADER_LENGTH} ${headerLength ?? "missing"}, directly ${expected.headerLength ?? "none"}`);
          const difference = firstDifference(expected.body, viaSidecar.body);
          if (difference) {
            problems.push(`${framing}, ${request.body!.length}-byte request, answer of ${viaSidecar.body.length} bytes: ${formatDifference(difference)}`);
            detail = { framing, requestBytes: request.body!.length, expectedBytes: expected.body.length, expectedSha256: sha256Hex(expected.body), viaSidecar: summary(viaSidecar), firstDifference: difference };
          }
        }
        framingTries[framing]!.tries++;
        if (problems.length) framingTries[framing]!.failed++;
        tally.record(entry, problems, detail ?? (problems.length ? { framing, requestBytes: request.body!.length } : undefined));
      };
      await runTryPlan(plan, endpoints.entry, { prepare, send }, context.signal);
    });
    const evidence = { ...tally.evidence(), framings: framingTries, tensorSizes: TENSOR_SIZES };
    const framings = Object.entries(framingTries)
      .map(([framing, { tries, failed }]) => (tally.failed ? `${framing} ${failed}/${tries}` : `${tries} ${framing}`))
      .join(", ");
    if (tally.failed === 0) {
      return { verdict: "passed", message: `${tally.describeTries("exchanges of 16–24 MiB")} intact through the sidecar (${framings})`, evidence };
    }
    return {
      verdict: "failed",
      message: `expected status, headers and every byte as the primary answers for ${tally.describeTries("exchanges of 16–24 MiB")}; found ${tally.describeFailures(1)} (failed by framing: ${framings})`,
      evidence: { ...evidence, sidecarLogTail: sidecarLogTail(context, pod) },
    };
  },
};
