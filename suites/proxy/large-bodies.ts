// proxy.large-bodies: a request of more than 16 MiB (one binary UINT8 tensor to the identity
// model) and its answer of the same size pass the sidecar intact: same status, length,
// SHA-256 and Inference-Header-Content-Length as directly, and the returned tensor is the
// one sent.
import { randomBytes } from "node:crypto";
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import { INFERENCE_HEADER_LENGTH } from "../../harness/load/kserve-request.ts";
import { firstDifference, formatDifference, sha256Hex } from "../support/byte-diff.ts";
import { describeResult, exchange, headerText, round, withAgent, type ExchangeRequest, type ExchangeResult } from "../../harness/load/http-exchange.ts";
import { endpointsOf, PrimaryMisbehavedError, sidecarLogTail } from "../support/proxy-comparison.ts";

/** 16 MiB of tensor data, plus an odd tail so no power-of-two buffer boundary hides a cut. */
export const TENSOR_BYTES = 16 * 1024 * 1024 + 4_099;
/** Generous for 2 × 16 MiB over loopback on a loaded 2-core VM (≈ 0.2 s when healthy). */
const REQUEST_TIMEOUT_MS = 20_000;

function largeRequest(data: Buffer): ExchangeRequest {
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
  };
}

function summary(result: ExchangeResult): Record<string, unknown> {
  if (!result.ok) return { error: result.kind, code: result.code, message: result.message, durationMs: round(result.durationMs) };
  return {
    status: result.status,
    bodyBytes: result.body.length,
    bodySha256: sha256Hex(result.body),
    [INFERENCE_HEADER_LENGTH]: headerText(result.headers, INFERENCE_HEADER_LENGTH),
    durationMs: round(result.durationMs),
  };
}

export const largeBodies: ConformanceTest = {
  id: "proxy.large-bodies",
  description: `a ${TENSOR_BYTES}-byte binary tensor (> 16 MiB) to the identity model and its equally large answer pass the sidecar intact: status, length, SHA-256 and ${INFERENCE_HEADER_LENGTH} as directly`,
  profile: "proxy",
  level: "core",
  features: ["large-bodies"],
  faultyFixture: "reference/sidecars/truncate-large.yaml",
  timeoutMs: 60_000,
  detection: exchangeClaim(DEFAULT_SUITE_CONFIG.triesPerExpectation, "exchange of ≥ 16 MiB, compared directly and through the sidecar"),
  async run(context) {
    const pod = await context.startPod();
    const endpoints = endpointsOf(context, pod);
    // Random bytes: a dropped, repeated or shifted block cannot line up by accident.
    const data = randomBytes(TENSOR_BYTES);
    const req = largeRequest(data);
    const { direct, viaSidecar } = await withAgent(async (agent) => {
      const options = { dispatcher: agent, signal: context.signal, timeoutMs: REQUEST_TIMEOUT_MS };
      const direct = await exchange(endpoints.direct, req, options);
      const viaSidecar = await exchange(endpoints.entry, req, options);
      return { direct, viaSidecar };
    });
    if (!direct.ok || direct.status !== 200) {
      throw new PrimaryMisbehavedError(`the primary answered the ${req.body?.length}-byte request with ${describeResult(direct)} directly, expected 200`);
    }
    // The identity model returns the tensor unchanged: the direct answer must end with it.
    if (Buffer.compare(direct.body.subarray(direct.body.length - data.length), data) !== 0) {
      throw new PrimaryMisbehavedError("the primary's direct answer does not end with the tensor it was sent; identity_uint8 is broken");
    }
    const evidence: Record<string, unknown> = { requestBytes: req.body?.length, direct: summary(direct), viaSidecar: summary(viaSidecar) };
    const problems: string[] = [];
    if (!viaSidecar.ok) {
      problems.push(describeResult(viaSidecar));
    } else {
      if (viaSidecar.status !== direct.status) problems.push(`status ${viaSidecar.status}, directly ${direct.status}`);
      const wantHeader = headerText(direct.headers, INFERENCE_HEADER_LENGTH);
      const gotHeader = headerText(viaSidecar.headers, INFERENCE_HEADER_LENGTH);
      if (wantHeader !== gotHeader) problems.push(`${INFERENCE_HEADER_LENGTH} ${gotHeader ?? "missing"}, directly ${wantHeader}`);
      const difference = firstDifference(direct.body, viaSidecar.body);
      if (difference) {
        evidence["firstDifference"] = difference;
        problems.push(`body of ${viaSidecar.body.length} bytes (SHA-256 ${sha256Hex(viaSidecar.body).slice(0, 16)}…), directly ${direct.body.length} bytes (${sha256Hex(direct.body).slice(0, 16)}…): ${formatDifference(difference)}`);
      }
    }
    if (problems.length === 0) {
      return {
        verdict: "passed",
        message: `${req.body?.length}-byte request and ${viaSidecar.ok ? viaSidecar.body.length : 0}-byte answer intact through the sidecar (${round(viaSidecar.durationMs)} ms, directly ${round(direct.durationMs)} ms)`,
        evidence,
      };
    }
    return {
      verdict: "failed",
      message: `expected the ${req.body?.length}-byte request to come back through the sidecar as directly (status 200, ${direct.body.length} bytes, identical SHA-256); found ${problems.join("; ")}`,
      evidence: { ...evidence, sidecarLogTail: sidecarLogTail(context, pod) },
    };
  },
};
