// The proxy profile: checks for sidecars that forward client traffic to the primary.
// The order is stable (reports list checks in it): core first, then extended.
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { binaryTensorsIdentical } from "./binary-tensors-identical.ts";
import { concurrentKeepAlive } from "./concurrent-keep-alive.ts";
import { headersPassThrough } from "./headers-pass-through.ts";
import { jsonIdentical } from "./json-identical.ts";
import { keepAliveReuse } from "./keep-alive-reuse.ts";
import { largeBodies } from "./large-bodies.ts";
import { streamingNotBuffered } from "./streaming-not-buffered.ts";
import { upstreamErrorsPreserved } from "./upstream-errors-preserved.ts";

export const proxyTests: ConformanceTest[] = [
  jsonIdentical,
  binaryTensorsIdentical,
  headersPassThrough,
  largeBodies,
  streamingNotBuffered,
  upstreamErrorsPreserved,
  concurrentKeepAlive,
  keepAliveReuse,
];
