"""The infer request path: split body, validate against the model, run, encode the response.

Follows Triton's binary tensor data extension, so `tritonclient.http` works unchanged:
- request header `Inference-Header-Content-Length: N`: the first N body bytes are the JSON
  header; the rest is the concatenated binary data of the inputs that carry
  `parameters.binary_data_size`, in the order the inputs are listed;
- an output is returned as binary when its `parameters.binary_data` is true, or, when it
  does not say, when the request's `parameters.binary_data_output` is true; the JSON header
  then lists it with `parameters.binary_data_size`, the binary data follows the header in
  output order, and the response carries `Inference-Header-Content-Length`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import jsonio
from .errors import bad_request
from .model import Model, TensorSpec
from .tensors import decode_binary, decode_json_data, encode_binary, encode_json_data, parse_shape

HEADER_LENGTH = "inference-header-content-length"
JSON_CONTENT_TYPE = "application/json"
BINARY_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class InferResponse:
    body: bytes
    content_type: str
    # Length of the JSON header when binary outputs follow it; None for a pure JSON body.
    header_length: int | None


@dataclass(frozen=True)
class _RequestedOutput:
    name: str
    datatype: str
    binary: bool


def infer(model: Model, body: bytes, header_length: str | None) -> InferResponse:
    view = memoryview(body)
    if header_length is None:
        json_part, binary_part = view, view[len(view) :]
    else:
        split = _parse_header_length(header_length, len(view))
        json_part, binary_part = view[:split], view[split:]

    request = _load_json(json_part)
    request_id = request.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise bad_request("'id' must be a string")
    parameters = _object(request.get("parameters"), "'parameters'")

    inputs = _decode_inputs(model, request.get("inputs"), binary_part)
    outputs = _requested_outputs(model, request.get("outputs"), parameters)
    results = model.infer(inputs)
    return _encode_response(model, request_id, outputs, results)


def _parse_header_length(value: str, body_length: int) -> int:
    try:
        split = int(value)
    except ValueError:
        raise bad_request(f"Inference-Header-Content-Length must be an integer, got {value!r}") from None
    if not 0 <= split <= body_length:
        raise bad_request(f"Inference-Header-Content-Length is {split} but the request body has {body_length} bytes")
    return split


def _load_json(data: memoryview) -> dict:
    try:
        request = jsonio.loads(data)
    except jsonio.JSONDecodeError as error:
        raise bad_request(f"request header is not valid JSON: {error}") from None
    if not isinstance(request, dict):
        raise bad_request("request header must be a JSON object")
    return request


def _object(value: object, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"{where} must be a JSON object")
    return value


def _decode_inputs(model: Model, raw_inputs: object, binary: memoryview) -> dict[str, np.ndarray]:
    if not isinstance(raw_inputs, list) or not raw_inputs:
        raise bad_request("'inputs' must be a non-empty array")
    specs = {spec.name: spec for spec in model.inputs}
    decoded: dict[str, np.ndarray] = {}
    offset = 0
    for position, item in enumerate(raw_inputs):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise bad_request(f"inputs[{position}] must be an object with a string 'name'")
        name = item["name"]
        where = f"input '{name}'"
        datatype = item.get("datatype")
        shape = parse_shape(item.get("shape"), where)
        check_input(model, specs, decoded, name, datatype, shape)
        params = _object(item.get("parameters"), f"{where} 'parameters'")
        if "shared_memory_region" in params:
            raise bad_request(f"{where}: shared memory is not supported")
        size = params.get("binary_data_size")
        if size is None:
            if "data" not in item:
                raise bad_request(f"{where} has neither 'data' nor parameters.binary_data_size")
            decoded[name] = decode_json_data(datatype, shape, item["data"], where)
            continue
        if type(size) is not int or size < 0:
            raise bad_request(f"{where}: binary_data_size must be a non-negative integer")
        if "data" in item:
            raise bad_request(f"{where} has both 'data' and parameters.binary_data_size")
        if offset + size > len(binary):
            raise bad_request(
                f"{where}: binary_data_size {size} runs past the {len(binary) - offset} binary bytes left"
            )
        decoded[name] = decode_binary(datatype, shape, binary[offset : offset + size], where)
        offset += size
    if offset != len(binary):
        raise bad_request(f"request body has {len(binary) - offset} bytes after the binary input data")
    check_all_inputs(model, specs, decoded)
    return decoded


def check_input(
    model: Model, specs: dict[str, TensorSpec], decoded: dict[str, np.ndarray], name: str, datatype: object,
    shape: tuple[int, ...],
) -> None:
    """One input's name, datatype and shape against the model (JSON and gRPC requests alike)."""
    where = f"input '{name}'"
    spec = specs.get(name)
    if spec is None:
        raise bad_request(f"unexpected {where} for model '{model.name}'; it expects {sorted(specs)}")
    if name in decoded:
        raise bad_request(f"{where} is given twice")
    if datatype != spec.datatype:
        raise bad_request(f"{where} has datatype {datatype!r}, model '{model.name}' expects {spec.datatype}")
    if len(shape) != len(spec.shape) or any(s != -1 and s != d for s, d in zip(spec.shape, shape, strict=True)):
        raise bad_request(f"{where} has shape {list(shape)}, model '{model.name}' expects {list(spec.shape)}")


def check_all_inputs(model: Model, specs: dict[str, TensorSpec], decoded: dict[str, np.ndarray]) -> None:
    missing = sorted(specs.keys() - decoded.keys())
    if missing:
        raise bad_request(f"model '{model.name}' needs inputs {missing}")


def _requested_outputs(model: Model, raw_outputs: object, parameters: dict) -> list[_RequestedOutput]:
    default_binary = parameters.get("binary_data_output", False)
    if not isinstance(default_binary, bool):
        raise bad_request("parameters.binary_data_output must be a boolean")
    specs = {spec.name: spec for spec in model.outputs}
    if raw_outputs is None:
        return [_RequestedOutput(spec.name, spec.datatype, default_binary) for spec in model.outputs]
    if not isinstance(raw_outputs, list):
        raise bad_request("'outputs' must be an array")
    requested: list[_RequestedOutput] = []
    for position, item in enumerate(raw_outputs):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise bad_request(f"outputs[{position}] must be an object with a string 'name'")
        name = item["name"]
        where = f"output '{name}'"
        spec = check_output(model, specs, [r.name for r in requested], name)
        params = _object(item.get("parameters"), f"{where} 'parameters'")
        binary = params.get("binary_data", default_binary)
        if not isinstance(binary, bool):
            raise bad_request(f"{where}: binary_data must be a boolean")
        if params.get("classification", 0):
            raise bad_request(f"{where}: the classification extension is not supported")
        if "shared_memory_region" in params:
            raise bad_request(f"{where}: shared memory is not supported")
        requested.append(_RequestedOutput(name, spec.datatype, binary))
    return requested


def check_output(model: Model, specs: dict[str, TensorSpec], requested: list[str], name: str) -> TensorSpec:
    """A requested output's name against the model and the outputs requested before it."""
    where = f"output '{name}'"
    spec = specs.get(name)
    if spec is None:
        raise bad_request(f"unknown {where} for model '{model.name}'; it has {sorted(specs)}")
    if name in requested:
        raise bad_request(f"{where} is requested twice")
    return spec


def _encode_response(
    model: Model, request_id: str | None, outputs: list[_RequestedOutput], results: dict[str, np.ndarray]
) -> InferResponse:
    response: dict[str, object] = {"model_name": model.name, "model_version": model.version}
    if request_id is not None:
        response["id"] = request_id
    encoded: list[dict[str, object]] = []
    chunks: list[bytes] = []
    for output in outputs:
        array = results[output.name]
        entry: dict[str, object] = {"name": output.name, "datatype": output.datatype, "shape": list(array.shape)}
        if output.binary:
            raw = encode_binary(output.datatype, array)
            entry["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
        else:
            entry["data"] = encode_json_data(output.datatype, array, f"output '{output.name}'")
        encoded.append(entry)
    response["outputs"] = encoded
    header = jsonio.dumps(response)
    if not chunks:
        return InferResponse(header, JSON_CONTENT_TYPE, None)
    return InferResponse(b"".join([header, *chunks]), BINARY_CONTENT_TYPE, len(header))
