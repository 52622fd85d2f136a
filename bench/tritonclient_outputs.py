"""What tritonclient, the Triton project's own client, gets back from KServe v2 endpoints.

For bench/tritonclient-crosscheck.ts: reads {"targets": [{"name", "http", "grpc"}]} (host:port
each; grpc may be null) as JSON on stdin, sends every case below to every target with the same
inputs, and writes one JSON object per target and case on stdout: the output's datatype,
shape and sha256 of its bytes (and the MLP's values, which two primaries' numpy builds may
round differently), or the error tritonclient raised. No comparison here: the caller judges.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Case:
    name: str
    model: str
    protocol: str  # http-json | http-binary | grpc
    values: np.ndarray


def _cases() -> list[Case]:
    rng = np.random.default_rng(20261207)
    mlp_in = rng.standard_normal((2, 64), dtype=np.float32)
    # A 224×224 RGB image's FP32 tensor, flattened: the body size where proxies differ.
    image = rng.standard_normal((1, 3 * 224 * 224), dtype=np.float32)
    # int64 beyond 2^53: a proxy or server that re-encodes JSON numbers as doubles changes them.
    wide = np.array([[2**62 + 1, -(2**62) - 3, 9007199254740993, 0]], dtype=np.int64)
    return [
        Case("mlp JSON", "mlp", "http-json", mlp_in),
        Case("mlp binary", "mlp", "http-binary", mlp_in),
        Case("mlp gRPC", "mlp", "grpc", mlp_in),
        Case("identity_fp32 1×150528 binary", "identity_fp32", "http-binary", image),
        Case("identity_fp32 1×150528 gRPC", "identity_fp32", "grpc", image),
        Case("identity_int64 > 2^53 JSON", "identity_int64", "http-json", wide),
        Case("identity_int64 > 2^53 gRPC", "identity_int64", "grpc", wide),
    ]


def _datatype(values: np.ndarray) -> str:
    return {np.float32: "FP32", np.int64: "INT64"}[values.dtype.type]


def _infer_http(url: str, case: Case) -> np.ndarray:
    binary = case.protocol == "http-binary"
    client = httpclient.InferenceServerClient(url=url, network_timeout=TIMEOUT_S, connection_timeout=TIMEOUT_S)
    try:
        tensor = httpclient.InferInput("INPUT0", list(case.values.shape), _datatype(case.values))
        tensor.set_data_from_numpy(case.values, binary_data=binary)
        wanted = [httpclient.InferRequestedOutput("OUTPUT0", binary_data=binary)]
        return client.infer(case.model, [tensor], outputs=wanted).as_numpy("OUTPUT0")
    finally:
        client.close()


def _infer_grpc(url: str, case: Case) -> np.ndarray:
    client = grpcclient.InferenceServerClient(url=url)
    try:
        tensor = grpcclient.InferInput("INPUT0", list(case.values.shape), _datatype(case.values))
        tensor.set_data_from_numpy(case.values)
        return client.infer(case.model, [tensor], client_timeout=TIMEOUT_S).as_numpy("OUTPUT0")
    finally:
        client.close()


def _outcome(target: dict, case: Case) -> dict:
    url = target["grpc"] if case.protocol == "grpc" else target["http"]
    if url is None:
        return {"ok": False, "error": "no gRPC endpoint"}
    try:
        out = _infer_grpc(url, case) if case.protocol == "grpc" else _infer_http(url, case)
    except InferenceServerException as error:
        status = (error.status() or "").removeprefix("StatusCode.")
        return {"ok": False, "error": f"{status}{': ' if status else ''}{(error.message() or '').strip()[:200]}"}
    except Exception as error:  # noqa: BLE001 - any client failure is this target's answer
        return {"ok": False, "error": f"{type(error).__name__}: {str(error).strip()[:200]}"}
    if out is None:
        return {"ok": False, "error": "no OUTPUT0 in the response"}
    result = {
        "ok": True,
        "datatype": _datatype(out) if out.dtype.type in (np.float32, np.int64) else str(out.dtype),
        "shape": list(out.shape),
        "sha256": hashlib.sha256(np.ascontiguousarray(out).tobytes()).hexdigest(),
    }
    if case.model == "mlp":
        result["values"] = out.astype(float).ravel().tolist()
    return result


def main() -> int:
    request = json.load(sys.stdin)
    cases = _cases()
    for target in request["targets"]:
        for case in cases:
            row = {"target": target["name"], "case": case.name, "model": case.model, "protocol": case.protocol}
            # What the client sent, so the caller can check an identity model's answer.
            row["input_sha256"] = hashlib.sha256(case.values.tobytes()).hexdigest()
            row.update(_outcome(target, case))
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
