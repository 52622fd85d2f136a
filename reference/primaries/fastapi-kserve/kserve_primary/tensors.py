"""Tensor codecs of the KServe v2 protocol: JSON `data` arrays and Triton's binary tensor data.

Binary layout (Triton's binary_tensor_data extension): fixed-size types are the raw
little-endian elements in row-major order; BYTES elements are each a 4-byte
little-endian length followed by that many bytes.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

import numpy as np

from .errors import bad_request

# Explicit little-endian dtypes: the wire format is little-endian whatever the host is.
NUMERIC_DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype("?"),
    "UINT8": np.dtype("<u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
}
BYTES = "BYTES"
DATATYPES: tuple[str, ...] = (*NUMERIC_DTYPES, BYTES)

_LENGTH = struct.Struct("<I")


def element_count(shape: Sequence[int]) -> int:
    return math.prod(shape)


def parse_shape(value: object, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
        type(d) is int and d >= 0
        for d in value  # type() excludes bool, which is an int subclass
    ):
        raise bad_request(f"{where}: 'shape' must be a list of non-negative integers, got {value!r}")
    return tuple(value)


def decode_json_data(datatype: str, shape: tuple[int, ...], data: object, where: str) -> np.ndarray:
    """Turns a JSON `data` array (flat or nested, row-major) into an array of `shape`."""
    if not isinstance(data, list):
        raise bad_request(f"{where}: 'data' must be a JSON array")
    if datatype == BYTES:
        flat = _flatten_strings(data, where)
        array = np.empty(len(flat), dtype=object)
        array[:] = flat
    else:
        array = _numeric_from_json(datatype, data, where)
    expected = element_count(shape)
    if array.size != expected:
        raise bad_request(f"{where}: 'data' has {array.size} elements but shape {list(shape)} needs {expected}")
    return array.reshape(shape)


def decode_values(datatype: str, shape: tuple[int, ...], values: Sequence[object], where: str) -> np.ndarray:
    """A flat row-major sequence of typed values (gRPC's InferTensorContents) into an array of
    `shape`; integers outside the datatype's range are refused, as in JSON data."""
    if datatype == BYTES:
        array = np.empty(len(values), dtype=object)
        array[:] = [bytes(v) for v in values]  # type: ignore[call-overload]
    else:
        array = _numeric_from_json(datatype, list(values), where)
    expected = element_count(shape)
    if array.size != expected:
        raise bad_request(f"{where}: contents has {array.size} elements but shape {list(shape)} needs {expected}")
    return array.reshape(shape)


def decode_binary(datatype: str, shape: tuple[int, ...], raw: memoryview, where: str) -> np.ndarray:
    expected = element_count(shape)
    if datatype == BYTES:
        return _deserialize_bytes(raw, expected, where).reshape(shape)
    dtype = NUMERIC_DTYPES[datatype]
    if len(raw) != expected * dtype.itemsize:
        raise bad_request(
            f"{where}: binary_data_size is {len(raw)} bytes but shape {list(shape)} of {datatype} "
            f"needs {expected * dtype.itemsize}"
        )
    # Zero-copy view of the request body; models treat inputs as read-only.
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def encode_json_data(datatype: str, array: np.ndarray, where: str) -> object:
    """The flat row-major `data` value for a JSON response (numpy arrays serialise natively)."""
    if datatype == BYTES:
        try:
            return [_as_bytes(v).decode("utf-8") for v in array.reshape(-1)]
        except UnicodeDecodeError:
            raise bad_request(f"{where}: holds bytes that are not UTF-8; request it with binary_data") from None
    # orjson serialises only C-contiguous, native-order arrays.
    return np.ascontiguousarray(array, dtype=NUMERIC_DTYPES[datatype].newbyteorder("=")).reshape(-1)


def encode_binary(datatype: str, array: np.ndarray) -> bytes:
    if datatype == BYTES:
        return b"".join(_LENGTH.pack(len(b)) + b for b in map(_as_bytes, array.reshape(-1)))
    return np.ascontiguousarray(array, dtype=NUMERIC_DTYPES[datatype]).tobytes()


def _numeric_from_json(datatype: str, data: list, where: str) -> np.ndarray:
    dtype = NUMERIC_DTYPES[datatype]
    try:
        parsed = np.asarray(data)
    except ValueError:
        raise bad_request(f"{where}: 'data' is a ragged nested array") from None
    if parsed.size == 0:
        return parsed.astype(dtype)
    # Reject what a silent cast would mangle: strings, floats into integer tensors,
    # integers out of the target range (an astype would wrap them around).
    kind = parsed.dtype.kind
    if dtype.kind in "iu":
        # numpy infers float64 (losing digits) or object for Python ints beyond int64, such
        # as large UINT64 values: only then look at the elements themselves.
        if kind not in "iu" and not (kind in "fO" and _all_ints(data)):
            raise bad_request(f"{where}: 'data' holds values that are not {datatype}")
        try:
            # From the Python ints, not from `parsed`: this conversion is exact or raises.
            return np.asarray(data, dtype=dtype)
        except OverflowError:
            raise bad_request(f"{where}: 'data' holds values outside the range of {datatype}") from None
    allowed_kinds = "b" if datatype == "BOOL" else "iuf"
    if kind not in allowed_kinds:
        raise bad_request(f"{where}: 'data' holds values that are not {datatype}")
    return parsed.astype(dtype, copy=False)


def _all_ints(data: list) -> bool:
    return all(_all_ints(v) if isinstance(v, list) else type(v) is int for v in data)


def _flatten_strings(data: list, where: str) -> list[bytes]:
    out: list[bytes] = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            if not isinstance(item, str):
                raise bad_request(f"{where}: BYTES 'data' must hold strings, got {item!r}")
            out.append(item.encode("utf-8"))
        else:
            stack.pop()
    return out


def _deserialize_bytes(raw: memoryview, count: int, where: str) -> np.ndarray:
    array = np.empty(count, dtype=object)
    offset = 0
    end = len(raw)
    for i in range(count):
        if offset + 4 > end:
            raise bad_request(f"{where}: BYTES binary data ends after {i} of {count} elements")
        (length,) = _LENGTH.unpack_from(raw, offset)
        offset += 4
        if offset + length > end:
            raise bad_request(f"{where}: BYTES element {i} claims {length} bytes past the end of its data")
        array[i] = bytes(raw[offset : offset + length])
        offset += length
    if offset != end:
        raise bad_request(f"{where}: BYTES binary data has {end - offset} bytes after its {count} elements")
    return array


def _as_bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")
