// Fixtures that prove what the checks' detection claims say, beside each test's own
// faulty fixture (which breaks its rule on every request): the same faults on one in
// every ten requests, or only on requests of one kind (a fresh connection, a chunked
// body, a 5xx answer, the pod's first start), and trace-context faults a byte
// comparison would not name. Each must make its check fail. The legitimate variants do
// what the standards allow a proxy to do and must pass every check (reference/sidecars/README.md).

export type DetectionFixtureKind = "fraction" | "request-dependent" | "trace-context";

export interface DetectionFixture {
  fixture: string;
  /** The check that must fail on it. */
  check: string;
  kind: DetectionFixtureKind;
}

export const DETECTION_FIXTURES: readonly DetectionFixture[] = [
  { fixture: "reference/sidecars/partial/rewrite-json-1-in-10.yaml", check: "proxy.json-identical", kind: "fraction" },
  { fixture: "reference/sidecars/partial/corrupt-binary-1-in-10.yaml", check: "proxy.binary-tensors-identical", kind: "fraction" },
  { fixture: "reference/sidecars/partial/drop-header-1-in-10.yaml", check: "proxy.headers-pass-through", kind: "fraction" },
  { fixture: "reference/sidecars/partial/mask-errors-1-in-10.yaml", check: "proxy.upstream-errors-preserved", kind: "fraction" },
  { fixture: "reference/sidecars/partial/truncate-large-1-in-10.yaml", check: "proxy.large-bodies", kind: "fraction" },
  { fixture: "reference/sidecars/partial/buffer-stream-1-in-10.yaml", check: "proxy.streaming-not-buffered", kind: "fraction" },
  { fixture: "reference/sidecars/partial/close-connections-1-in-10.yaml", check: "proxy.keep-alive-reuse", kind: "fraction" },
  { fixture: "reference/sidecars/partial/drop-lines-1-in-10.yaml", check: "logs.every-line-once-in-order", kind: "fraction" },
  { fixture: "reference/sidecars/partial/drop-exports-1-in-10.yaml", check: "telemetry.counts-match", kind: "fraction" },
  { fixture: "reference/sidecars/partial/mask-errors-5xx.yaml", check: "proxy.upstream-errors-preserved", kind: "request-dependent" },
  { fixture: "reference/sidecars/partial/truncate-large-chunked.yaml", check: "proxy.large-bodies", kind: "request-dependent" },
  { fixture: "reference/sidecars/partial/corrupt-binary-fresh-connection.yaml", check: "proxy.binary-tensors-identical", kind: "request-dependent" },
  { fixture: "reference/sidecars/partial/ready-late-first-start.yaml", check: "lifecycle.no-traffic-before-ready", kind: "request-dependent" },
  { fixture: "reference/sidecars/restart-trace.yaml", check: "proxy.headers-pass-through", kind: "trace-context" },
  { fixture: "reference/sidecars/unsample-trace.yaml", check: "proxy.headers-pass-through", kind: "trace-context" },
];

/** Sidecars that behave as allowed (a tracing proxy, as RFC 9110 and W3C Trace Context allow; a log shipper and a telemetry relay that drop while their backend is down, as they declare): every check must pass. */
export const LEGITIMATE_VARIANTS: readonly string[] = ["reference/sidecars/legitimate/tracing-proxy.yaml", "reference/sidecars/legitimate/log-shipper-drop.yaml", "reference/sidecars/legitimate/telemetry-drop-when-down.yaml"];
