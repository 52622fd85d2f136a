"""Quick sequential latency probe of a running primary (keep-alive, one connection).

    .venv/bin/python reference/primaries/fastapi-kserve/bench_baseline.py --port 8000 [--binary] [--batch 1]

Not the benchmark itself (that is the harness, open loop, many trials): a sanity check of
the baseline a sidecar's overhead is measured against.
"""

from __future__ import annotations

import argparse
import http.client
import json
import time

import numpy as np


def build_request(batch: int, width: int, binary: bool) -> tuple[bytes, dict[str, str]]:
    data = np.random.default_rng(0).standard_normal((batch, width), dtype=np.float32)
    tensor: dict[str, object] = {"name": "INPUT0", "shape": [batch, width], "datatype": "FP32"}
    if not binary:
        tensor["data"] = data.reshape(-1).tolist()
        return json.dumps({"inputs": [tensor]}).encode(), {"Content-Type": "application/json"}
    raw = data.tobytes()
    tensor["parameters"] = {"binary_data_size": len(raw)}
    header = json.dumps({"inputs": [tensor], "outputs": [{"name": "OUTPUT0", "parameters": {"binary_data": True}}]})
    headers = {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(header))}
    return header.encode() + raw, headers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--width", type=int, default=64, help="the model's input width (PRIMARY_INPUT_DIM)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--binary", action="store_true", help="binary tensor input and output")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("only loopback targets are allowed")

    body, headers = build_request(args.batch, args.width, args.binary)
    path = f"/v2/models/{args.model}/infer"
    connection = http.client.HTTPConnection(args.host, args.port)
    latencies_us = []
    for i in range(args.warmup + args.requests):
        start = time.perf_counter()
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise SystemExit(f"request {i} failed with HTTP {response.status}")
        if i >= args.warmup:
            latencies_us.append(elapsed * 1e6)
    connection.close()
    p = np.percentile(latencies_us, [50, 90, 99, 99.9])
    kind = "binary" if args.binary else "json"
    print(
        f"{kind} batch={args.batch} n={args.requests}: p50={p[0]:.0f}us p90={p[1]:.0f}us "
        f"p99={p[2]:.0f}us p99.9={p[3]:.0f}us mean={np.mean(latencies_us):.0f}us"
    )


if __name__ == "__main__":
    main()
