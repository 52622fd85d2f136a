"""Syslog headers parsed off a frame, leaving the MSG part byte for byte.

- RFC 5424: <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP
  STRUCTURED-DATA [SP MSG]; a UTF-8 BOM opening MSG is the encoding marker, not text.
- RFC 3164 as rsyslog writes it (RSYSLOG_TraditionalForwardFormat, and ForwardFormat with an
  RFC 3339 timestamp): <PRI>TIMESTAMP SP HOSTNAME SP TAG MSG, where TAG is one word,
  "name", "name:" or "name[pid]:", and one space separates it from MSG (rsyslog's
  "sp-if-no-1st-sp"; an imfile tag without a colon, e.g. tag="access", arrives as
  "access {line}"). Without a timestamp only a "name:" tag is taken off.
- No header at all (a template of only %msg%): the whole frame is MSG.

A frame that is not a valid 5424 header is tried as 3164, then as header-less."""

from __future__ import annotations

import re
from dataclasses import dataclass

RFC5424 = "rfc5424"
RFC3164 = "rfc3164"
NONE = "none"

_BOM = b"\xef\xbb\xbf"
_PRI = re.compile(rb"<(\d{1,3})>")
_HEADER_5424 = re.compile(rb"<(\d{1,3})>([1-9]\d{0,2}) (\S+) (\S+) (\S+) (\S+) (\S+) ")
_TIMESTAMP_3164 = re.compile(rb"[A-Z][a-z]{2} [ 0-3]\d \d\d:\d\d:\d\d ")
_TIMESTAMP_3339 = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d) ")
_TAG_COLON = re.compile(rb"([A-Za-z0-9_.@/-]{1,48})(?:\[[^\] ]{0,32}\])?: ?")
_TAG_WORD = re.compile(rb"([A-Za-z0-9_.@/-]{1,48})(?:\[[^\] ]{0,32}\])? ")
_TOKEN = re.compile(rb"(\S+) ")


@dataclass(frozen=True)
class SyslogMessage:
    header: str
    msg: bytes
    pri: int | None = None
    hostname: str | None = None
    app_name: str | None = None


def _nil(value: bytes) -> str | None:
    return None if value == b"-" else value.decode("ascii", "replace")


def _end_of_structured_data(frame: bytes, at: int) -> int | None:
    """Index just past STRUCTURED-DATA ("-" or one or more [SD-ELEMENT]), None if malformed."""
    if frame[at:at + 1] == b"-":
        return at + 1
    if frame[at:at + 1] != b"[":
        return None
    index = at
    while index < len(frame) and frame[index:index + 1] == b"[":
        index += 1
        quoted = False
        while index < len(frame):
            char = frame[index:index + 1]
            if quoted and char == b"\\":
                index += 2  # PARAM-VALUE escapes: \" \\ \]
                continue
            if char == b'"':
                quoted = not quoted
            elif char == b"]" and not quoted:
                break
            index += 1
        if index >= len(frame):
            return None
        index += 1
    return index


def _parse_5424(frame: bytes) -> SyslogMessage | None:
    match = _HEADER_5424.match(frame)
    if match is None:
        return None
    end = _end_of_structured_data(frame, match.end())
    if end is None:
        return None
    if end == len(frame):
        msg = b""
    elif frame[end:end + 1] == b" ":
        msg = frame[end + 1:]
    else:
        return None
    if msg.startswith(_BOM):
        msg = msg[len(_BOM):]
    return SyslogMessage(RFC5424, msg, int(match.group(1)), _nil(match.group(4)), _nil(match.group(5)))


def _parse_3164(frame: bytes) -> SyslogMessage | None:
    pri = _PRI.match(frame)
    if pri is None:
        return None
    at = pri.end()
    stamp = _TIMESTAMP_3164.match(frame, at) or _TIMESTAMP_3339.match(frame, at)
    hostname: str | None = None
    if stamp is not None:
        at = stamp.end()
        # "name:" right after the timestamp is a tag with no hostname before it; otherwise the
        # first word is the hostname and the next one the tag.
        tag = _TAG_COLON.match(frame, at)
        if tag is None:
            host = _TOKEN.match(frame, at)
            if host is not None:
                hostname = host.group(1).decode("ascii", "replace")
                at = host.end()
                tag = _TAG_COLON.match(frame, at) or _TAG_WORD.match(frame, at)
    else:
        tag = _TAG_COLON.match(frame, at)
    if tag is not None:
        return SyslogMessage(RFC3164, frame[tag.end():], int(pri.group(1)), hostname,
                             tag.group(1).decode("ascii", "replace"))
    return SyslogMessage(RFC3164, frame[at:], int(pri.group(1)), hostname, None)


def parse_frame(frame: bytes) -> SyslogMessage:
    if frame.startswith(b"<"):
        parsed = _parse_5424(frame) or _parse_3164(frame)
        if parsed is not None and parsed.pri is not None and parsed.pri <= 191:
            return parsed
    return SyslogMessage(NONE, frame)
