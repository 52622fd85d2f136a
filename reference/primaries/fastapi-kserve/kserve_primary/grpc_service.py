"""KServe v2 over gRPC: Triton's `inference.GRPCInferenceService`, on the models the HTTP app serves.

Imported only when PRIMARY_GRPC_PORT is set (app.py), so an HTTP-only primary never loads grpc.
The messages and the servicer base class are the ones tritonclient generates from Triton's
own grpc_service.proto: a client built on those protos (tritonclient.grpc, perf_analyzer,
the harness's harness/load/grpc) speaks to this server exactly as to Triton.

Tensors go through the HTTP path's checks and codecs (inference.check_input, tensors.decode_*,
tensors.encode_binary): inputs as raw_input_contents (binary, Triton's layout) or typed
`contents`; outputs always as raw_output_contents, as Triton answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping

import grpc
import numpy as np
from tritonclient.grpc import service_pb2, service_pb2_grpc

from .errors import ApiError, bad_request
from .inference import check_all_inputs, check_input, check_output
from .model import Model
from .tensors import decode_binary, decode_values, encode_binary

# Triton's and tritonclient's message size limit (INT32_MAX): gRPC's 4 MiB default would refuse
# the large-payload workloads that HTTP accepts.
MAX_MESSAGE_BYTES = 2**31 - 1
# How long in-flight RPCs may finish once the app shuts down (uvicorn has drained HTTP by then).
STOP_GRACE_S = 5.0

# InferTensorContents field per datatype; FP16 has none (Triton takes it as raw bytes only).
_CONTENTS_FIELD = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}
# ApiError's HTTP status → gRPC status, as Triton maps its errors.
_STATUS = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    404: grpc.StatusCode.NOT_FOUND,
    415: grpc.StatusCode.INVALID_ARGUMENT,
    503: grpc.StatusCode.UNAVAILABLE,
}

log = logging.getLogger("kserve_primary")

ModelsSource = Callable[[], Mapping[str, Model] | None]


def infer_message(model: Model, request: service_pb2.ModelInferRequest) -> service_pb2.ModelInferResponse:
    """One ModelInfer: decode and check the inputs, run the model, encode the requested outputs."""
    inputs = _decode_inputs(model, request)
    outputs = _requested_outputs(model, request)
    results = model.infer(inputs)
    response = service_pb2.ModelInferResponse(model_name=model.name, model_version=model.version, id=request.id)
    for name, datatype in outputs:
        array = results[name]
        response.outputs.add(name=name, datatype=datatype, shape=array.shape)
        response.raw_output_contents.append(encode_binary(datatype, array))
    return response


def _decode_inputs(model: Model, request: service_pb2.ModelInferRequest) -> dict[str, np.ndarray]:
    if not request.inputs:
        raise bad_request("'inputs' must be a non-empty list")
    raw = request.raw_input_contents
    # Triton's rule: raw contents for every input or for none, in input order.
    if raw and len(raw) != len(request.inputs):
        raise bad_request(f"raw_input_contents has {len(raw)} entries for {len(request.inputs)} inputs")
    specs = {spec.name: spec for spec in model.inputs}
    decoded: dict[str, np.ndarray] = {}
    for position, tensor in enumerate(request.inputs):
        where = f"input '{tensor.name}'"
        shape = tuple(tensor.shape)
        if any(d < 0 for d in shape):
            raise bad_request(f"{where}: 'shape' must be non-negative, got {list(shape)}")
        check_input(model, specs, decoded, tensor.name, tensor.datatype, shape)
        if "shared_memory_region" in tensor.parameters:
            raise bad_request(f"{where}: shared memory is not supported")
        has_contents = tensor.HasField("contents")
        if raw:
            if has_contents:
                raise bad_request(f"{where} has both contents and raw_input_contents")
            decoded[tensor.name] = decode_binary(tensor.datatype, shape, memoryview(raw[position]), where)
            continue
        field = _CONTENTS_FIELD.get(tensor.datatype)
        if field is None:
            raise bad_request(f"{where}: {tensor.datatype} travels in raw_input_contents only")
        decoded[tensor.name] = decode_values(tensor.datatype, shape, getattr(tensor.contents, field), where)
    check_all_inputs(model, specs, decoded)
    return decoded


def _requested_outputs(model: Model, request: service_pb2.ModelInferRequest) -> list[tuple[str, str]]:
    if not request.outputs:
        return [(spec.name, spec.datatype) for spec in model.outputs]
    specs = {spec.name: spec for spec in model.outputs}
    requested: list[tuple[str, str]] = []
    for output in request.outputs:
        spec = check_output(model, specs, [name for name, _ in requested], output.name)
        params = output.parameters
        if "classification" in params and params["classification"].int64_param:
            raise bad_request(f"output '{output.name}': the classification extension is not supported")
        if "shared_memory_region" in params:
            raise bad_request(f"output '{output.name}': shared memory is not supported")
        requested.append((spec.name, spec.datatype))
    return requested


def _request_bytes(request: service_pb2.ModelInferRequest) -> int:
    return sum(len(raw) for raw in request.raw_input_contents) + sum(t.contents.ByteSize() for t in request.inputs)


class InferenceServicer(service_pb2_grpc.GRPCInferenceServiceServicer):
    """The KServe v2 RPCs; the others (model config, statistics, repository, shared memory,
    trace and log settings) answer UNIMPLEMENTED from the generated base class."""

    def __init__(
        self, models: ModelsSource, server_name: str, server_version: str, extensions: list[str], inline_limit_bytes: int
    ) -> None:
        self._models = models
        self._server_metadata = service_pb2.ServerMetadataResponse(
            name=server_name, version=server_version, extensions=extensions
        )
        self._inline_limit_bytes = inline_limit_bytes

    def _find(self, name: str, version: str) -> Model:
        models = self._models()
        if models is None:
            raise ApiError(503, "models are loading; the server is not ready")
        model = models.get(name)
        if model is None:
            raise ApiError(404, f"unknown model '{name}'")
        if version and version != model.version:
            raise ApiError(404, f"unknown version '{version}' of model '{name}'")
        return model

    async def ServerLive(self, request, context):  # noqa: N802 (the generated method names)
        return service_pb2.ServerLiveResponse(live=True)

    async def ServerReady(self, request, context):  # noqa: N802
        return service_pb2.ServerReadyResponse(ready=self._models() is not None)

    async def ModelReady(self, request, context):  # noqa: N802
        # As Triton: an unknown model is not ready (no error), and neither is any while loading.
        try:
            self._find(request.name, request.version)
        except ApiError:
            return service_pb2.ModelReadyResponse(ready=False)
        return service_pb2.ModelReadyResponse(ready=True)

    async def ServerMetadata(self, request, context):  # noqa: N802
        return self._server_metadata

    async def ModelMetadata(self, request, context):  # noqa: N802
        model = await _answer(context, self._find, request.name, request.version)
        response = service_pb2.ModelMetadataResponse(name=model.name, versions=[model.version], platform=model.platform)
        for spec in model.inputs:
            response.inputs.add(name=spec.name, datatype=spec.datatype, shape=spec.shape)
        for spec in model.outputs:
            response.outputs.add(name=spec.name, datatype=spec.datatype, shape=spec.shape)
        return response

    async def ModelInfer(self, request, context):  # noqa: N802
        return await _answer(context, self._infer, request)

    async def ModelStreamInfer(self, request_iterator, context) -> AsyncIterator[service_pb2.ModelStreamInferResponse]:  # noqa: N802
        # Triton's stream: one response per request, a failed request answered with
        # error_message while the stream goes on.
        async for request in request_iterator:
            try:
                response = await self._infer(request)
            except ApiError as error:
                yield service_pb2.ModelStreamInferResponse(error_message=error.message)
                continue
            yield service_pb2.ModelStreamInferResponse(infer_response=response)

    async def _infer(self, request: service_pb2.ModelInferRequest) -> service_pb2.ModelInferResponse:
        model = self._find(request.model_name, request.model_version)
        # As the HTTP path: small requests inline, large ones off the event loop.
        if _request_bytes(request) <= self._inline_limit_bytes:
            return infer_message(model, request)
        return await asyncio.to_thread(infer_message, model, request)


async def _answer(context: grpc.aio.ServicerContext, fn, *args):
    """fn's result (awaited when it is a coroutine); an ApiError aborts the RPC with its gRPC status."""
    try:
        result = fn(*args)
        return await result if asyncio.iscoroutine(result) else result
    except ApiError as error:
        await context.abort(_STATUS.get(error.status, grpc.StatusCode.INTERNAL), error.message)
    except Exception as error:  # the traceback to stderr, never to the client
        log.exception("gRPC request failed")
        await context.abort(grpc.StatusCode.INTERNAL, f"internal error: {type(error).__name__}")


async def start_grpc_server(host: str, port: int, servicer: InferenceServicer) -> grpc.aio.Server:
    """A grpc.aio server on the running event loop (uvicorn's), listening on host:port."""
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ]
    )
    service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(servicer, server)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if server.add_insecure_port(address) == 0:
        raise OSError(f"PRIMARY_GRPC_PORT={port}: cannot listen on {address}")
    await server.start()
    return server
