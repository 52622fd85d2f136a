"""The reference backend of the telemetry, logs and secrets roles: a fixture, like the
reference primary, that the sidecar under test talks to. One asyncio process serves an
OTLP/HTTP receiver, a syslog/TCP receiver, a Vault-compatible KV v2 store and a control
API that the checks read (what arrived, and when) and steer (listeners down, up, slow)."""
