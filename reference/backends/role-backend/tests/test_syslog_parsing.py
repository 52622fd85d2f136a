"""Framing (RFC 6587) and header parsing (RFC 5424, RFC 3164 as rsyslog writes it), without sockets."""

from __future__ import annotations

import pytest

from role_backend.syslog_framing import LF, OCTET_COUNTING, FramingError, SyslogFramer
from role_backend.syslog_header import NONE, RFC3164, RFC5424, parse_frame


def octet(message: bytes) -> bytes:
    return str(len(message)).encode() + b" " + message


def feed_bytewise(framer: SyslogFramer, stream: bytes) -> list[bytes]:
    frames: list[bytes] = []
    for index in range(len(stream)):
        frames += framer.feed(stream[index:index + 1])
    return frames


def test_octet_counting_frames_survive_any_split_and_keep_lf_inside_messages() -> None:
    messages = [b"<13>1 - h a - - - one", "<13>1 - h a - - - zwei \u00fc".encode(), b"x\ny"]
    stream = b"".join(octet(m) for m in messages)
    framer = SyslogFramer(1 << 20)
    assert feed_bytewise(framer, stream) == messages
    assert framer.mode == OCTET_COUNTING
    assert framer.finish() is None


def test_octet_counted_frame_drops_one_trailing_template_lf() -> None:
    framer = SyslogFramer(1 << 20)
    assert framer.feed(octet(b"<14>1 - h a - - - line\n")) == [b"<14>1 - h a - - - line"]


def test_lf_framing_is_chosen_when_the_stream_does_not_start_with_a_length() -> None:
    framer = SyslogFramer(1 << 20)
    # A %msg%-only line that starts with digits but no "<digits> " is not a length.
    stream = b"2024-05-01 first\n{\"seq\":2}\n<13>Oct  1 10:00:00 host tag: third\n"
    assert feed_bytewise(framer, stream) == [b"2024-05-01 first", b'{"seq":2}', b"<13>Oct  1 10:00:00 host tag: third"]
    assert framer.mode == LF


def test_lf_partial_last_frame_is_returned_by_finish() -> None:
    framer = SyslogFramer(1 << 20)
    assert framer.feed(b"done\nhalf a li") == [b"done"]
    assert framer.finish() == b"half a li"


def test_oversize_frames_are_skipped_whole_and_counted_in_both_framings() -> None:
    lf = SyslogFramer(max_frame_bytes=10)
    assert lf.feed(b"short\n" + b"x" * 25) == [b"short"]
    assert lf.feed(b"y" * 25 + b"\nnext\n") == [b"next"]
    assert lf.oversize_frames == 1
    counted = SyslogFramer(max_frame_bytes=10)
    stream = octet(b"z" * 30) + octet(b"fine")
    assert feed_bytewise(counted, stream) == [b"fine"]
    assert counted.oversize_frames == 1


def test_octet_counting_rejects_a_frame_without_a_length() -> None:
    framer = SyslogFramer(1 << 20)
    framer.feed(octet(b"one"))
    with pytest.raises(FramingError):
        framer.feed(b"garbage without length\n")


def test_rfc5424_header_with_structured_data_is_parsed_off() -> None:
    frame = (b'<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 '
             b'[exampleSDID@32473 iut="3" eventSource="App\\]lication"][x@1 a="b c"] '
             b'\xef\xbb\xbfAn application event log entry: {"k": "v \\" \xc3\xa9"}')
    parsed = parse_frame(frame)
    assert parsed.header == RFC5424
    assert parsed.pri == 165
    assert parsed.hostname == "mymachine.example.com"
    assert parsed.app_name == "evntslog"
    assert parsed.msg == b'An application event log entry: {"k": "v \\" \xc3\xa9"}'


def test_rfc5424_without_structured_data_or_msg() -> None:
    assert parse_frame(b"<34>1 2003-10-11T22:14:15Z host su - - -").msg == b""
    parsed = parse_frame(b"<34>1 - - - - - -  leading space kept")
    assert parsed.header == RFC5424
    assert parsed.hostname is None
    assert parsed.msg == b" leading space kept"


@pytest.mark.parametrize(
    "frame, hostname, tag, msg",
    [
        # RSYSLOG_TraditionalForwardFormat: <PRI>Mmm dd hh:mm:ss HOST TAG MSG
        (b"<13>Oct  1 09:05:01 pod-a primary: {\"seq\":1}", "pod-a", "primary", b'{"seq":1}'),
        (b"<13>Oct 11 22:14:15 pod-a sshd[42]: Accepted", "pod-a", "sshd", b"Accepted"),
        # RSYSLOG_ForwardFormat: an RFC 3339 timestamp instead
        (b"<13>2024-05-01T10:00:00.123456+02:00 pod-a app: text: with colon", "pod-a", "app", b"text: with colon"),
        # The message's own leading spaces beyond the one separator stay.
        (b"<13>Oct 11 22:14:15 pod-a app:   indented", "pod-a", "app", b"  indented"),
        # RSYSLOG_TraditionalForwardFormat with an imfile tag that has no colon (tag="access").
        (b"<13>Oct 11 22:14:15 pod-a access {\"seq\":1}", "pod-a", "access", b'{"seq":1}'),
        (b"<13>Oct 11 22:14:15 pod-a access  two spaces", "pod-a", "access", b" two spaces"),
        # No hostname (a local logger's format).
        (b"<13>Oct 11 22:14:15 app: hello", None, "app", b"hello"),
    ],
)
def test_rfc3164_headers_as_rsyslog_writes_them(frame: bytes, hostname: str | None, tag: str, msg: bytes) -> None:
    parsed = parse_frame(frame)
    assert (parsed.header, parsed.pri, parsed.hostname, parsed.app_name, parsed.msg) == (RFC3164, 13, hostname, tag, msg)


@pytest.mark.parametrize("frame", [b'{"seq":1,"msg":"<13>"}', b"<html> not syslog", b"plain text", b"<999>1 - - - - - - x"])
def test_frames_without_a_syslog_header_are_the_message(frame: bytes) -> None:
    parsed = parse_frame(frame)
    assert parsed.header == NONE
    assert parsed.msg == frame


def test_json_message_after_pri_without_timestamp_is_not_mistaken_for_a_tag() -> None:
    parsed = parse_frame(b'<13>{"a":1}')
    assert parsed.header == RFC3164
    assert parsed.msg == b'{"a":1}'
