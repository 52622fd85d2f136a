"""Writes grpc_service.proto and model_config.proto beside this script from the descriptors that
tritonclient's wheel (PyPI, pinned in reference/requirements.txt) compiled from Triton's own
protos, so the harness's client speaks exactly what tritonclient and the primaries speak.

The wheel ships the generated Python code, not the .proto files; the descriptors it embeds are
the same definitions, field for field (names, numbers, types, maps, oneofs, streaming), without
the comments. Rerun after a tritonclient upgrade:

    .venv/bin/python harness/load/grpc/protos/generate_protos.py
"""

from __future__ import annotations

import sys
from importlib.metadata import files, version
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor_pb2 import FieldDescriptorProto as Field
from tritonclient.grpc import model_config_pb2, service_pb2

HERE = Path(__file__).resolve().parent

_SCALARS = {
    Field.TYPE_DOUBLE: "double",
    Field.TYPE_FLOAT: "float",
    Field.TYPE_INT64: "int64",
    Field.TYPE_UINT64: "uint64",
    Field.TYPE_INT32: "int32",
    Field.TYPE_FIXED64: "fixed64",
    Field.TYPE_FIXED32: "fixed32",
    Field.TYPE_BOOL: "bool",
    Field.TYPE_STRING: "string",
    Field.TYPE_BYTES: "bytes",
    Field.TYPE_UINT32: "uint32",
    Field.TYPE_SFIXED32: "sfixed32",
    Field.TYPE_SFIXED64: "sfixed64",
    Field.TYPE_SINT32: "sint32",
    Field.TYPE_SINT64: "sint64",
}


def licence_header() -> str:
    """The BSD-3-Clause notice tritonclient is distributed under (its wheel's LICENSE.txt), as `//` comments."""
    licence = next(f for f in files("tritonclient") or [] if f.name == "LICENSE.txt")
    lines = [line.removeprefix("#").removeprefix(" ") for line in licence.read_text().splitlines()]
    return "".join(f"// {line}".rstrip() + "\n" for line in lines)


def type_name(field: descriptor_pb2.FieldDescriptorProto) -> str:
    if field.type in (Field.TYPE_MESSAGE, Field.TYPE_ENUM):
        return field.type_name.removeprefix(".")  # fully qualified: resolves from any scope
    try:
        return _SCALARS[field.type]
    except KeyError:
        raise SystemExit(f"{field.name}: field type {field.type} has no proto3 spelling here") from None


def print_message(message: descriptor_pb2.DescriptorProto, indent: str, out: list[str]) -> None:
    if message.extension_range or message.reserved_range or message.reserved_name or message.oneof_decl and any(
        f.proto3_optional for f in message.field
    ):
        raise SystemExit(f"message {message.name}: uses a construct this printer does not write")
    maps = {nested.name: nested for nested in message.nested_type if nested.options.map_entry}
    out.append(f"{indent}message {message.name} {{\n")
    inner = indent + "  "
    for enum in message.enum_type:
        print_enum(enum, inner, out)
    for nested in message.nested_type:
        if nested.name not in maps:
            print_message(nested, inner, out)
    open_oneof: int | None = None
    for field in message.field:
        oneof = field.oneof_index if field.HasField("oneof_index") else None
        if open_oneof is not None and oneof != open_oneof:
            out.append(f"{inner}}}\n")
            open_oneof = None
        if oneof is not None and oneof != open_oneof:
            out.append(f"{inner}oneof {message.oneof_decl[oneof].name} {{\n")
            open_oneof = oneof
        field_indent = inner + "  " if open_oneof is not None else inner
        entry = maps.get(field.type_name.rsplit(".", 1)[-1]) if field.type == Field.TYPE_MESSAGE else None
        if entry is not None and field.label == Field.LABEL_REPEATED:
            key, value = entry.field
            spelled = f"map<{type_name(key)}, {type_name(value)}>"
        else:
            spelled = ("repeated " if field.label == Field.LABEL_REPEATED else "") + type_name(field)
        out.append(f"{field_indent}{spelled} {field.name} = {field.number};\n")
    if open_oneof is not None:
        out.append(f"{inner}}}\n")
    out.append(f"{indent}}}\n")


def print_enum(enum: descriptor_pb2.EnumDescriptorProto, indent: str, out: list[str]) -> None:
    out.append(f"{indent}enum {enum.name} {{\n")
    for value in enum.value:
        out.append(f"{indent}  {value.name} = {value.number};\n")
    out.append(f"{indent}}}\n")


def render(module) -> tuple[str, str]:
    proto = descriptor_pb2.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(proto)
    if proto.syntax != "proto3" or proto.options.ListFields():
        raise SystemExit(f"{proto.name}: expected proto3 without file options")
    out = [
        licence_header(),
        "\n",
        f"// Triton's {proto.name}, as compiled into tritonclient {version('tritonclient')} (PyPI):\n",
        f"// {Path(module.__file__).name}'s descriptor, written back as a .proto by generate_protos.py\n",
        "// (definitions only; the original comments are not in the descriptor). Do not edit.\n",
        "\n",
        'syntax = "proto3";\n',
        "\n",
        f"package {proto.package};\n",
    ]
    if proto.dependency:
        out.append("\n")
        out.extend(f'import "{dependency}";\n' for dependency in proto.dependency)
    for enum in proto.enum_type:
        out.append("\n")
        print_enum(enum, "", out)
    for message in proto.message_type:
        out.append("\n")
        print_message(message, "", out)
    for service in proto.service:
        out.append(f"\nservice {service.name} {{\n")
        for method in service.method:
            request = ("stream " if method.client_streaming else "") + method.input_type.removeprefix(".")
            response = ("stream " if method.server_streaming else "") + method.output_type.removeprefix(".")
            out.append(f"  rpc {method.name}({request}) returns ({response}) {{}}\n")
        out.append("}\n")
    return proto.name, "".join(out)


def main() -> None:
    for module in (model_config_pb2, service_pb2):
        name, text = render(module)
        (HERE / name).write_text(text)
        print(f"wrote {HERE / name}", file=sys.stderr)


if __name__ == "__main__":
    main()
