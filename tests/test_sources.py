"""Pieces of file reading that the dialect files cannot reach: streaming scans across chunk borders."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from kpi.sources import _scan


def naive(data: bytes, header_row: int) -> tuple[bool, list[int]]:
    # A line counts when a newline ends it; the first line cannot be blank below a header.
    lines = data.split(b"\n")
    blank = [n for n, line in enumerate(lines[1:-1], start=2) if line in (b"", b"\r")]
    offsets = []
    for line in blank:
        if line > header_row:
            offsets.append(line - header_row - 1 - len(offsets))
    return b"\xcc" in data or b"\xcd" in data, offsets


lines = st.lists(st.sampled_from([b"", b"\r", b"a;b", b"x\xcc\x81", b"1;2;3\r", b"\xcd\x80"]), max_size=30)


@settings(max_examples=300, deadline=None)
@given(lines=lines, header_row=st.integers(1, 5), chunk=st.integers(1, 7), final_newline=st.booleans())
def test_streaming_scan_matches_a_whole_file_scan(lines, header_row, chunk, final_newline):
    data = b"\n".join(lines) + (b"\n" if final_newline else b"")
    assert _scan(io.BytesIO(data), header_row, chunk_size=chunk) == naive(data, header_row)


def test_blank_lines_after_the_header_only():
    data = b"title\n\nh1;h2\n1;2\n\n\r\n3;4\n\n5;6\n"
    assert _scan(io.BytesIO(data), 3) == (False, [1, 1, 2])
