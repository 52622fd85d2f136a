"""Reference primary model server for sidecar-bench: KServe v2 / Open Inference Protocol over REST."""

SERVER_NAME = "sidecar-bench-fastapi-kserve"
SERVER_VERSION = "0.1.0"
