"""KServe v2 over gRPC (inference.GRPCInferenceService) with the real tritonclient.grpc, against a
server started as the manifest starts it: PRIMARY_GRPC_PORT set, HTTP on its own port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from tritonclient.grpc import service_pb2, service_pb2_grpc
from tritonclient.utils import InferenceServerException

from conftest import Server, launch, free_port, infer_body, reference_mlp, sample_input, wait_ready

TIMEOUT_S = 10.0


@dataclass
class GrpcServer:
    http: Server
    grpc_port: int

    @property
    def grpc_url(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"


@pytest.fixture(scope="module")
def served() -> Iterator[GrpcServer]:
    grpc_port = free_port()
    running = launch(env={"PRIMARY_GRPC_PORT": str(grpc_port), "PRIMARY_GRPC_HOST": "127.0.0.1"})
    try:
        wait_ready(running)
        yield GrpcServer(running, grpc_port)
    finally:
        running.stop()


@pytest.fixture
def client(served: GrpcServer) -> Iterator[grpcclient.InferenceServerClient]:
    client = grpcclient.InferenceServerClient(url=served.grpc_url)
    yield client
    client.close()


@pytest.fixture
def stub(served: GrpcServer) -> Iterator[service_pb2_grpc.GRPCInferenceServiceStub]:
    """The raw stub, for what tritonclient never sends (typed contents, malformed requests)."""
    with grpc.insecure_channel(served.grpc_url) as channel:
        yield service_pb2_grpc.GRPCInferenceServiceStub(channel)


def mlp_input(x: np.ndarray) -> grpcclient.InferInput:
    tensor = grpcclient.InferInput("INPUT0", list(x.shape), "FP32")
    tensor.set_data_from_numpy(x)
    return tensor


def test_health_and_metadata(client: grpcclient.InferenceServerClient) -> None:
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.is_model_ready("mlp")
    assert client.is_model_ready("mlp", model_version="1")
    assert not client.is_model_ready("nope")
    assert not client.is_model_ready("mlp", model_version="2")
    server_metadata = client.get_server_metadata(as_json=True)
    assert server_metadata["name"] == "sidecar-bench-fastapi-kserve"
    assert "binary_tensor_data" in server_metadata["extensions"]
    metadata = client.get_model_metadata("mlp", as_json=True)
    assert metadata["name"] == "mlp"
    assert metadata["versions"] == ["1"]
    assert metadata["inputs"] == [{"name": "INPUT0", "datatype": "FP32", "shape": ["-1", "64"]}]
    assert metadata["outputs"] == [{"name": "OUTPUT0", "datatype": "FP32", "shape": ["-1", "10"]}]
    identity = client.get_model_metadata("identity_int8", as_json=True)
    assert identity["inputs"] == [{"name": "INPUT0", "datatype": "INT8", "shape": ["-1", "-1"]}]


def test_infer_mlp_matches_http_and_the_model(served: GrpcServer, client: grpcclient.InferenceServerClient) -> None:
    x = sample_input(4)
    result = client.infer("mlp", [mlp_input(x)], request_id="grpc-1", client_timeout=TIMEOUT_S)
    response = result.get_response()
    assert (response.model_name, response.model_version, response.id) == ("mlp", "1", "grpc-1")
    output = result.as_numpy("OUTPUT0")
    assert output.dtype == np.float32 and output.shape == (4, 10)
    http = served.http.request("POST", "/v2/models/mlp/infer", infer_body(x))
    assert http.status == 200
    (http_output,) = http.json()["outputs"]
    # The same float32 computation on the same inputs: bit-identical to the HTTP answer.
    np.testing.assert_array_equal(output.reshape(-1), np.asarray(http_output["data"], dtype=np.float32))
    np.testing.assert_allclose(output, reference_mlp(x), rtol=1e-5, atol=1e-7)


def test_requested_outputs_and_version(client: grpcclient.InferenceServerClient) -> None:
    x = sample_input(2)
    result = client.infer(
        "mlp", [mlp_input(x)], model_version="1", outputs=[grpcclient.InferRequestedOutput("OUTPUT0")]
    )
    np.testing.assert_allclose(result.as_numpy("OUTPUT0"), reference_mlp(x), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "datatype, values",
    [
        ("FP32", np.array([[1.5, -2.25, 3e-8]], dtype=np.float32)),
        ("INT64", np.array([[-(2**62), 0, 2**62]], dtype=np.int64)),
        ("UINT8", np.array([[0, 127, 255], [1, 2, 3]], dtype=np.uint8)),
        ("FP16", np.array([[0.5, -1.0]], dtype=np.float16)),
        ("BOOL", np.array([[True, False, True]])),
        ("BYTES", np.array([[b"a", b"", b"\x00\xff binary"]], dtype=np.object_)),
        # Over the 64 KiB inline limit: computed on a worker thread, as over HTTP.
        ("FP64", np.random.default_rng(3).standard_normal((4, 5000))),
    ],
)
def test_identity_round_trip_binary(client: grpcclient.InferenceServerClient, datatype: str, values: np.ndarray) -> None:
    tensor = grpcclient.InferInput("INPUT0", list(values.shape), datatype)
    tensor.set_data_from_numpy(values)
    result = client.infer(f"identity_{datatype.lower()}", [tensor], client_timeout=TIMEOUT_S)
    returned = result.as_numpy("OUTPUT0")
    assert returned.shape == values.shape
    if datatype == "BYTES":
        assert returned.tolist() == values.tolist()
    else:
        assert returned.dtype == values.dtype
        np.testing.assert_array_equal(returned, values)


def test_typed_contents_are_decoded(stub: service_pb2_grpc.GRPCInferenceServiceStub) -> None:
    x = sample_input(1)
    request = service_pb2.ModelInferRequest(model_name="mlp")
    tensor = request.inputs.add(name="INPUT0", datatype="FP32", shape=[1, 64])
    tensor.contents.fp32_contents.extend(x.reshape(-1).tolist())
    response = stub.ModelInfer(request, timeout=TIMEOUT_S)
    (output,) = response.outputs
    assert (output.name, output.datatype, list(output.shape)) == ("OUTPUT0", "FP32", [1, 10])
    got = np.frombuffer(response.raw_output_contents[0], dtype="<f4").reshape(1, 10)
    np.testing.assert_allclose(got, reference_mlp(x), rtol=1e-5, atol=1e-7)

    request = service_pb2.ModelInferRequest(model_name="identity_int16")
    tensor = request.inputs.add(name="INPUT0", datatype="INT16", shape=[1, 3])
    tensor.contents.int_contents.extend([-32768, 0, 32767])
    response = stub.ModelInfer(request, timeout=TIMEOUT_S)
    assert np.frombuffer(response.raw_output_contents[0], dtype="<i2").tolist() == [-32768, 0, 32767]


def test_unknown_model_is_not_found(client: grpcclient.InferenceServerClient) -> None:
    with pytest.raises(InferenceServerException) as raised:
        client.infer("nope", [mlp_input(sample_input(1))], client_timeout=TIMEOUT_S)
    assert raised.value.status() == "StatusCode.NOT_FOUND"
    assert "unknown model 'nope'" in raised.value.message()
    with pytest.raises(InferenceServerException) as raised:
        client.get_model_metadata("nope")
    assert raised.value.status() == "StatusCode.NOT_FOUND"
    with pytest.raises(InferenceServerException) as raised:
        client.infer("mlp", [mlp_input(sample_input(1))], model_version="9")
    assert raised.value.status() == "StatusCode.NOT_FOUND"


def invalid(stub: service_pb2_grpc.GRPCInferenceServiceStub, request: service_pb2.ModelInferRequest) -> str:
    with pytest.raises(grpc.RpcError) as raised:
        stub.ModelInfer(request, timeout=TIMEOUT_S)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
    return raised.value.details()


def test_bad_inputs_are_invalid_argument(stub: service_pb2_grpc.GRPCInferenceServiceStub) -> None:
    def mlp_request(shape: list[int], raw: bytes | None, datatype: str = "FP32") -> service_pb2.ModelInferRequest:
        request = service_pb2.ModelInferRequest(model_name="mlp")
        request.inputs.add(name="INPUT0", datatype=datatype, shape=shape)
        if raw is not None:
            request.raw_input_contents.append(raw)
        return request

    ok_bytes = sample_input(1).tobytes()
    assert "shape [1, 63]" in invalid(stub, mlp_request([1, 63], ok_bytes[:-4]))
    assert "datatype 'FP64'" in invalid(stub, mlp_request([1, 64], ok_bytes, "FP64"))
    assert "needs 256" in invalid(stub, mlp_request([1, 64], ok_bytes[:-4]))
    assert "contents has 0 elements" in invalid(stub, mlp_request([1, 64], None))
    assert "non-empty" in invalid(stub, service_pb2.ModelInferRequest(model_name="mlp"))
    wrong_name = service_pb2.ModelInferRequest(model_name="mlp")
    wrong_name.inputs.add(name="X", datatype="FP32", shape=[1, 64])
    wrong_name.raw_input_contents.append(ok_bytes)
    assert "unexpected input 'X'" in invalid(stub, wrong_name)
    unknown_output = mlp_request([1, 64], ok_bytes)
    unknown_output.outputs.add(name="OUTPUT9")
    assert "unknown output 'OUTPUT9'" in invalid(stub, unknown_output)
    out_of_range = service_pb2.ModelInferRequest(model_name="identity_int8")
    out_of_range.inputs.add(name="INPUT0", datatype="INT8", shape=[1, 1]).contents.int_contents.append(300)
    assert "outside the range of INT8" in invalid(stub, out_of_range)


def test_stream_infer_answers_each_request(client: grpcclient.InferenceServerClient) -> None:
    answers: list[tuple[object, object]] = []
    client.start_stream(callback=lambda result, error: answers.append((result, error)))
    try:
        x = sample_input(2)
        client.async_stream_infer("mlp", [mlp_input(x)], request_id="s1")
        client.async_stream_infer("nope", [mlp_input(x)], request_id="s2")
        client.async_stream_infer("mlp", [mlp_input(x)], request_id="s3")
    finally:
        client.stop_stream()  # waits for the stream's answers
    assert len(answers) == 3
    (first, no_error), (none, error), (third, _) = answers
    assert no_error is None and none is None
    assert "unknown model 'nope'" in str(error)
    np.testing.assert_allclose(first.as_numpy("OUTPUT0"), reference_mlp(x), rtol=1e-5, atol=1e-7)
    assert third.get_response().id == "s3"


def test_while_loading_not_ready_and_unavailable(start_server) -> None:
    grpc_port = free_port()
    start_server(env={"PRIMARY_GRPC_PORT": str(grpc_port), "PRIMARY_LOAD_DELAY_MS": "20000"})
    client = grpcclient.InferenceServerClient(url=f"127.0.0.1:{grpc_port}")
    try:
        assert client.is_server_live()
        assert not client.is_server_ready()
        assert not client.is_model_ready("mlp")
        with pytest.raises(InferenceServerException) as raised:
            client.infer("mlp", [mlp_input(sample_input(1))], client_timeout=TIMEOUT_S)
        assert raised.value.status() == "StatusCode.UNAVAILABLE"
        assert "loading" in raised.value.message()
    finally:
        client.close()


def _loads_grpc(process_id: int) -> bool:
    with open(f"/proc/{process_id}/maps") as maps:
        return "cygrpc" in maps.read()


def test_grpc_is_loaded_only_with_a_grpc_port(server: Server, served: GrpcServer) -> None:
    """The default config (no PRIMARY_GRPC_PORT) serves HTTP only and never loads grpc's core."""
    assert server.request("GET", "/v2/health/ready").status == 200
    assert not _loads_grpc(server.process.pid)
    assert _loads_grpc(served.http.process.pid)
