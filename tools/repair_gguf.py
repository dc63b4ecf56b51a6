#!/usr/bin/env python3
"""Repair a GGUF vocabulary file that went through a lossy UTF-8 round trip.

Usage:
    repair_gguf.py DAMAGED.gguf OUT.gguf [--scores-from tokenizer.model]

THE DAMAGE
    The binary file was decoded as UTF-8 with errors='replace' and encoded
    again.  Python's decoder replaces each *maximal ill-formed subpart* with
    one U+FFFD, which is written back as the three bytes EF BF BD (a "marker"):

      - a byte that cannot start a sequence (80..BF, C0, C1, F5..FF): 1 marker
        per byte, so a run of such bytes gives a run of markers;
      - a lead byte C2..F4 followed by 0, 1 or 2 bytes that continue it
        correctly, then by a byte that does not: ONE marker for the whole
        run (C3 00 -> EF BF BD 00; E2 82 00 -> EF BF BD 00; but
        E0 80 -> two markers, since 80 cannot follow E0).

    So a marker stands for 1, 2 or 3 unknown original bytes, all >= 0x80.
    Anything that happened to be valid UTF-8 (ASCII, or e.g. C6 80 spanning
    two floats) survived byte for byte.  Note that the whole damaged file is
    valid UTF-8, so "the string must be valid UTF-8" alone proves nothing.

WHAT IS RECOVERED AND WHAT IS NOT
    - Strings (keys, token pieces, merges, names) are valid UTF-8 and survived.
    - Integers whose bytes are all < 0x80 (most lengths, small ids, type
      codes, token types) survived.
    - u64 string lengths and array counts with a byte >= 0x80 lost that byte,
      but are RECOVERED: their high bytes are zero, so the damage stays inside
      the field, and the value is pinned down by what has to follow (the next
      length field, the next key, the end of the file) - see below.
    - Integer scalars with a byte >= 0x80 (e.g. bos id 50256 = 50 C4 00 00)
      and floats with a damaged byte are NOT recoverable: the byte values are
      gone.  Such keys are dropped (reported as "dropped KEY: why").
      tokenizer.ggml.scores can instead be taken from the SentencePiece
      model with --scores-from, after checking it against the damaged file.

HOW THE PARSE RESYNCHRONISES
    Every field is read in all the ways the damaged bytes allow (each marker
    1, 2 or 3 bytes wide; an unknown length or count takes every value whose
    bytes would be damaged into exactly the bytes seen).  A reading is kept
    only if the rest of the file can be read after it: kv_count pairs, ending
    exactly at the end of the file.  The output is written only if that
    reading is unique in everything that is written.  Readings of one key
    that end at the same offset and differ only in what is not written (for
    example the count of an array of damaged floats that is dropped anyway)
    count as one.  Otherwise the script exits with status 1, naming the key
    (and element) it could not settle.

    Rules used to reject readings, beyond the GGUF format itself:
      - keys are 1..65535 printable ASCII bytes (GGUF spec: ASCII names);
      - string values are valid UTF-8 and contain no NUL byte.  Tokenizer
        strings never do (byte-level BPE maps 0x00 to 'Ā', SentencePiece
        writes '<0x00>'), while every length field holds zero bytes, so a
        misread length cannot swallow the next element or stop inside one.
        A real string with a NUL in it breaks this rule: the script then
        stops at that element ("no length that fits") instead of reading on.
    An original EF BF BD inside binary data (a number that happened to hold
    the UTF-8 encoding of U+FFFD) is taken for damage; that can make the
    parse fail or a value be dropped, but cannot produce a wrong value.

--scores-from tokenizer.model
    The SentencePiece ModelProto is parsed by hand.  Its pieces must equal
    tokenizer.ggml.tokens one for one; its scores, damaged the same way in
    memory, must reproduce the damaged scores array byte for byte; and every
    score whose 4 bytes survived must equal the model's bit for bit (the
    count is reported).  Then the model's scores are written.

OUTPUT
    A clean GGUF v3 file with tensor_count 0 holding general.architecture and
    every tokenizer.ggml.* key recovered exactly, in the original order and
    with the original value types; other keys are omitted.  As a last check,
    every key written is damaged again in memory and must reproduce the input
    bytes it was read from.  A one-line summary goes to stderr.
"""

import argparse
import bisect
import codecs
import functools
import heapq
import itertools
import os
import struct
import sys
import time
from typing import NamedTuple

MARKER = b"\xef\xbf\xbd"  # U+FFFD encoded
MAX_KEY_LEN = 65535
MAX_COMBINATIONS = 1_000_000  # unknown-byte combinations tried for one field

# GGUF value types.
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, \
    T_STRING, T_ARRAY, T_UINT64, T_INT64, T_FLOAT64 = range(13)
TYPE_NAMES = {
    T_UINT8: "u8", T_INT8: "i8", T_UINT16: "u16", T_INT16: "i16",
    T_UINT32: "u32", T_INT32: "i32", T_FLOAT32: "f32", T_BOOL: "bool",
    T_STRING: "string", T_ARRAY: "array", T_UINT64: "u64", T_INT64: "i64",
    T_FLOAT64: "f64",
}
SCALAR_WIDTH = {
    T_UINT8: 1, T_INT8: 1, T_UINT16: 2, T_INT16: 2, T_UINT32: 4, T_INT32: 4,
    T_FLOAT32: 4, T_BOOL: 1, T_UINT64: 8, T_INT64: 8, T_FLOAT64: 8,
}

SCORES_KEY = "tokenizer.ggml.scores"
TOKENS_KEY = "tokenizer.ggml.tokens"
TOKEN_TYPE_KEY = "tokenizer.ggml.token_type"


class RepairError(Exception):
    """The damaged file cannot be repaired unambiguously."""


# --------------------------------------------------------------------------
# The damage itself


def damage(raw: bytes) -> bytes:
    """What the lossy round trip makes of `raw`."""
    return raw.decode("utf-8", "replace").encode("utf-8")


_invalid_spans = []


def _record_invalid(exc):
    _invalid_spans.append((exc.start, exc.end))
    return ("\ufffd", exc.end)


codecs.register_error("repair_gguf.record", _record_invalid)


def invalid_spans(raw: bytes):
    """The (start, end) byte ranges of `raw` that the round trip replaces."""
    _invalid_spans.clear()
    raw.decode("utf-8", "repair_gguf.record")
    return list(_invalid_spans)


@functools.lru_cache(maxsize=None)
def subparts(width: int):
    """All byte strings of `width` bytes that become exactly one marker."""
    if width == 1:
        cands = ([b] for b in range(0x80, 0x100))
    elif width == 2:
        cands = ([a, b] for a in range(0xE0, 0xF5) for b in range(0x80, 0xC0))
    else:
        cands = ([a, b, c] for a in range(0xF0, 0xF5)
                 for b in range(0x80, 0xC0) for c in range(0x80, 0xC0))
    return [bytes(c) for c in cands
            if damage(bytes(c) + b"\0") == MARKER + b"\0"]


# --------------------------------------------------------------------------
# Fixed-width fields


class Field(NamedTuple):
    """One way to read a fixed-width field from the damaged data.

    items: per piece, ("b", byte) for a surviving byte or ("m", width) for a
    marker standing for `width` unknown original bytes.
    """
    start: int
    end: int
    items: tuple
    markers: int

    def known_bytes(self):
        """The original bytes, or None if some were replaced."""
        if self.markers:
            return None
        return bytes(v for _, v in self.items)

    def pattern(self):
        """Hex rendering with ?? for unknown bytes, e.g. '50 ?? 00 00'."""
        out = []
        for kind, v in self.items:
            out += [f"{v:02x}"] if kind == "b" else ["??"] * v
        return " ".join(out)


def read_fixed(data: bytes, pos: int, width: int):
    """All ways to read a `width`-byte field at `pos` (list of Field)."""
    window = data[pos:pos + width]
    if len(window) == width and 0xEF not in window:  # fast path: no marker
        return [Field(pos, pos + width, tuple(("b", b) for b in window), 0)]
    out = []

    def walk(p, items, nbytes, markers):
        if nbytes == width:
            out.append(Field(pos, p, tuple(items), markers))
        elif data.startswith(MARKER, p):
            for w in range(1, min(3, width - nbytes) + 1):
                walk(p + 3, items + [("m", w)], nbytes + w, markers + 1)
        elif p < len(data):
            walk(p + 1, items + [("b", data[p])], nbytes + 1, markers)

    walk(pos, [], 0, 0)
    return out


def value_fits(data: bytes, field: Field, value: int) -> bool:
    """Could `value` (little-endian) have been damaged into this field?"""
    width = sum(1 if k == "b" else v for k, v in field.items)
    if not 0 <= value < 1 << (8 * width):
        return False
    raw = value.to_bytes(width, "little")
    i = 0
    for kind, v in field.items:
        if kind == "b":
            if raw[i] != v:
                return False
            i += 1
        else:
            i += v
    # The field starts after a complete UTF-8 unit (a zero byte, a type code,
    # or a whole string), and what follows cannot continue a truncated lead
    # byte at its end, so a NUL stands in for it.
    return damage(raw + b"\0") == data[field.start:field.end] + b"\0"


def field_values(data: bytes, field: Field, max_value: int, what: str):
    """All integers <= max_value that the field may have held, ascending."""
    if not field.markers:
        value = int.from_bytes(field.known_bytes(), "little")
        return [value] if value <= max_value else []
    low = bytearray()
    for kind, v in field.items:  # every replaced byte is >= 0x80
        low += bytes([v]) if kind == "b" else b"\x80" * v
    if int.from_bytes(low, "little") > max_value:
        return []
    options = [subparts(v) for kind, v in field.items if kind == "m"]
    combos = 1
    for o in options:
        combos *= len(o)
    if combos > MAX_COMBINATIONS:
        raise RepairError(f"{what}: {combos} possible values for the field "
                          f"{field.pattern()} at offset {field.start:#x}; "
                          "too many to try")
    seen = data[field.start:field.end] + b"\0"
    values = []
    for combo in itertools.product(*options):
        parts = iter(combo)
        raw = b"".join(bytes([v]) if kind == "b" else next(parts)
                       for kind, v in field.items)
        value = int.from_bytes(raw, "little")
        if value <= max_value and damage(raw + b"\0") == seen:
            values.append(value)
    return sorted(values)


class MarkerMap:
    """Maps original offsets to damaged offsets from `start` on, counting
    every marker as ONE original byte (the narrowest reading)."""

    def __init__(self, data: bytes, start: int):
        self.data, self.start = data, start
        self.positions = []    # damaged offset of each marker
        self.min_offsets = []  # its original offset in the narrowest reading
        self._next = start
        self._done = False

    def _extend_to(self, orig_offset):
        while not self._done and (not self.min_offsets
                                  or self.min_offsets[-1] < orig_offset):
            p = self.data.find(MARKER, self._next)
            if p < 0:
                self._done = True
                break
            self.min_offsets.append(p - self.start - 2 * len(self.positions))
            self.positions.append(p)
            self._next = p + 3

    def markers_before(self, pos):
        """Markers between start and damaged offset `pos` (already scanned
        that far), or None if `pos` falls inside a marker."""
        j = bisect.bisect_left(self.positions, pos)
        if j and self.positions[j - 1] + 3 > pos:
            return None
        return j

    def locate(self, orig_offset):
        """(damaged offset, markers before it) of original byte orig_offset."""
        self._extend_to(orig_offset)
        j = bisect.bisect_left(self.min_offsets, orig_offset)
        return self.start + orig_offset + 2 * j, j


# --------------------------------------------------------------------------
# Readings of strings, values and key/value pairs


class Str(NamedTuple):
    start: int    # offset of the string bytes
    end: int      # offset after them
    markers: int  # markers in its length field


class Value(NamedTuple):
    """One way to read a value.  `payload()` gives the original bytes of the
    value (what follows the type code) or None if they are not all known."""
    end: int
    paths: int        # ways to reach this reading (1 unless ambiguous)
    resolved: int     # markers in lengths/counts, recovered
    lost: int         # markers in numeric value bytes, not recovered
    payload: object   # callable -> bytes | None
    detail: object    # callable -> str: why the value is not exact
    info: dict        # extra facts (count, elements, region, ...)


class KV(NamedTuple):
    start: int
    end: int
    key: str
    vtype: int
    key_markers: int
    value: Value


def _const(x):
    return lambda: x


class DamagedGGUF:
    def __init__(self, data: bytes):
        self.data = data
        self._kv_memo = {}
        self._parses_memo = {}
        self._marker_maps = {}
        self.failures = {}  # count offset -> (elements read, why it failed)

    # -- strings ---------------------------------------------------------

    def could_start_kv(self, pos):
        """Cheap necessary condition: a key length (< 65536) has six zero
        high bytes, which survive as a run of six NULs."""
        return self.data.find(b"\0" * 6, pos, pos + 12) >= 0

    def read_string(self, pos, is_key=False):
        """All readings of a GGUF string (u64 length + bytes) at `pos`."""
        data = self.data
        head = data[pos:pos + 8]
        if len(head) == 8 and 0xEF not in head:  # fast path
            length = int.from_bytes(head, "little")
            s = Str(pos + 8, pos + 8 + length, 0)
            return [s] if self._string_ok(s, is_key) else []
        if is_key and not self.could_start_kv(pos):
            return []
        out = []
        for field in read_fixed(data, pos, 8):
            start = field.end
            nul = data.find(b"\0", start)
            limit = (len(data) if nul < 0 else nul) - start  # NUL-free run
            if is_key:
                limit = min(limit, MAX_KEY_LEN)
            what = "key" if is_key else "string"
            for length in field_values(data, field, limit, what):
                s = Str(start, start + length, field.markers)
                if self._string_ok(s, is_key):
                    out.append(s)
        return out

    def _string_ok(self, s, is_key):
        data = self.data
        if s.end > len(data) or data.find(b"\0", s.start, s.end) >= 0:
            return False
        raw = data[s.start:s.end]
        if is_key:
            return (0 < len(raw) <= MAX_KEY_LEN
                    and all(0x21 <= c <= 0x7E for c in raw))
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    def string_bytes(self, s):
        return self.data[s.start:s.end]

    # -- values ----------------------------------------------------------

    def read_value(self, pos, vtype, key):
        if vtype == T_STRING:
            return [self._string_value(s) for s in self.read_string(pos)]
        if vtype == T_ARRAY:
            return self._read_array(pos, key)
        return self._read_scalar(pos, vtype)

    def _string_value(self, s):
        raw = self.string_bytes(s)
        payload = struct.pack("<Q", len(raw)) + raw
        return Value(s.end, 1, s.markers, 0, _const(payload), _const(""),
                     {"string": raw})

    def _read_scalar(self, pos, vtype):
        out = []
        for f in read_fixed(self.data, pos, SCALAR_WIDTH[vtype]):
            raw = f.known_bytes()
            if vtype == T_BOOL and raw not in (b"\0", b"\1"):
                continue
            why = (f"{TYPE_NAMES[vtype]} bytes {f.pattern()}: "
                   f"{f.markers} byte run(s) >= 0x80 replaced by U+FFFD")
            out.append(Value(f.end, 1, 0, f.markers, _const(raw),
                             _const(why), {"field": f}))
        return out

    def _read_array(self, pos, key):
        out = []
        for tf in read_fixed(self.data, pos, 4):
            elem = int.from_bytes(tf.known_bytes() or b"\xff" * 4, "little")
            if tf.markers or elem not in TYPE_NAMES or elem == T_ARRAY:
                continue
            for cf in read_fixed(self.data, tf.end, 8):
                if elem == T_STRING:
                    out += self._string_array(cf, key)
                else:
                    out += self._numeric_array(cf, elem, key)
        return out

    def _string_array(self, cf, key):
        """Readings of an array of strings whose u64 count is field `cf`.

        A forward pass over offsets (every element moves forward) that keeps,
        for each offset, the element counts it can be reached with and how
        many ways (capped at 2)."""
        data, start = self.data, cf.end
        if cf.markers:
            max_count = (len(data) - start) // 8
            fits = functools.partial(value_fits, data, cf)
        else:
            max_count = int.from_bytes(cf.known_bytes(), "little")
            if max_count * 8 > len(data) - start:
                return []
            fits = max_count.__eq__
        # offset -> {count: [paths, previous offset, previous count, Str,
        #                    markers resolved in element lengths so far]}
        states = {start: {0: [1, None, None, None, 0]}}
        heap = [start]
        exits, ambiguous_at, furthest = [], None, (0, start)
        while heap:
            pos = heapq.heappop(heap)
            here = states[pos]
            for n in here:
                furthest = max(furthest, (n, pos))
                if fits(n):
                    exits.append((pos, n))
            counts = [n for n in here if n < max_count]
            if not counts:
                continue
            for s in self.read_string(pos):
                nxt = states.get(s.end)
                if nxt is None:
                    nxt = states[s.end] = {}
                    heapq.heappush(heap, s.end)
                for n in counts:
                    st = nxt.get(n + 1)
                    if st is None:
                        nxt[n + 1] = [here[n][0], pos, n, s,
                                      here[n][4] + s.markers]
                    else:
                        st[0] = min(2, st[0] + here[n][0])
                        if ambiguous_at is None:
                            ambiguous_at = (n, s.end)
        if not exits:
            n, pos = furthest
            why = (f"{key}: element {n} at offset {pos:#x}: no length that "
                   f"fits (count field read as {cf.pattern()})")
            self.failures[cf.start] = max(self.failures.get(cf.start, ()),
                                          (n, why))
        return [self._string_array_value(cf, states, pos, n, ambiguous_at)
                for pos, n in exits]

    def _string_array_value(self, cf, states, end, count, ambiguous_at):
        paths, _, _, _, markers = states[end][count]

        @functools.lru_cache(maxsize=None)
        def elements():
            """The element strings along the (first) path to this exit."""
            raws, pos, n = [], end, count
            while n:
                _, prev, prev_n, s, _ = states[pos][n]
                raws.append(self.string_bytes(s))
                pos, n = prev, prev_n
            return raws[::-1]

        def payload():
            parts = [struct.pack("<IQ", T_STRING, count)]
            for raw in elements():
                parts += [struct.pack("<Q", len(raw)), raw]
            return b"".join(parts)

        info = {"count": count, "elements": elements, "elem": T_STRING}
        if paths > 1 and ambiguous_at:
            info["ambiguous"] = (f"element {ambiguous_at[0]} at offset "
                                 f"{ambiguous_at[1]:#x} can be reached in "
                                 "more than one way")
        return Value(end, paths, cf.markers + markers, 0, payload,
                     _const(""), info)

    def _numeric_array(self, cf, elem, key):
        """Readings of an array of fixed-width numbers with count field `cf`.

        The numbers sit back to back, so markers may straddle elements.  Read
        with every marker 1 byte wide the layout is fixed; each marker that
        stands for 2 or 3 bytes adds 1 or 2 `extra` bytes.  So the array can
        end at damaged offset q after n elements when
            narrowest(q) <= n * width <= narrowest(q) + 2 * markers_before(q),
        narrowest(q) being the original bytes before q with 1-byte markers.
        Only offsets where a key can start (or the end of the file) are
        tried; the rest of the file decides between them."""
        data, start, width = self.data, cf.end, SCALAR_WIDTH[elem]
        counts = field_values(data, cf, (len(data) - start) // width,
                              key + " count")
        if not counts:
            return []
        mm = self._marker_maps.setdefault(start, MarkerMap(data, start))
        # A marker takes 3 damaged bytes for 1..3 original ones, so the array
        # takes at least as many damaged bytes as original ones.
        first = start + counts[0] * width
        last, _ = mm.locate(counts[-1] * width)
        out = []
        for end in self._kv_starts(first, min(last, len(data))):
            markers = mm.markers_before(end)
            if markers is None:
                continue  # inside a marker
            narrowest = end - start - 2 * markers
            lo = bisect.bisect_left(counts, -(-narrowest // width))
            hi = bisect.bisect_right(counts,
                                     (narrowest + 2 * markers) // width)
            for n in counts[lo:hi]:
                out.append(self._numeric_value(cf, elem, n,
                                               n * width - narrowest, end,
                                               markers, mm))
        return out

    def _kv_starts(self, lo, hi):
        """Offsets in [lo, hi] where a key/value pair could start, ascending:
        the end of the file, or where a key can be read (its length field
        ends in six NULs, so only offsets just before such a run qualify)."""
        data, found, p = self.data, set(), lo
        while True:
            p = data.find(b"\0" * 6, p, hi + 12)
            if p < 0:
                break
            found.update(q for q in range(p - 6, p + 1)
                         if lo <= q <= hi and q not in found
                         and self.read_string(q, is_key=True))
            p += 1
        if lo <= len(data) <= hi:
            found.add(len(data))
        return sorted(found)

    def _numeric_value(self, cf, elem, count, extra, end, markers, mm):
        start, width = cf.end, SCALAR_WIDTH[elem]
        region = self.data[start:end]
        info = {"count": count, "elem": elem, "region": (start, end),
                "extra": extra, "markers": markers}

        def payload():
            if markers:
                return None
            return struct.pack("<IQ", elem, count) + region

        def detail():
            if not markers:
                return ""
            if extra:
                return (f"{markers} U+FFFD among its {count} "
                        f"{TYPE_NAMES[elem]} values, {extra} original bytes "
                        "more than markers: which values they hit is not "
                        "determined")
            hit = {(mm.min_offsets[i]) // width for i in range(markers)}
            return (f"{len(hit)} of its {count} {TYPE_NAMES[elem]} values "
                    f"have bytes replaced by U+FFFD ({markers} markers)")

        return Value(end, 1, cf.markers, markers, payload, detail, info)

    # -- key/value pairs ---------------------------------------------------

    def kv_readings(self, pos):
        """All readings of a key/value pair at `pos` (memoised)."""
        memo = self._kv_memo.get(pos)
        if memo is not None:
            return memo
        out = []
        for ks in self.read_string(pos, is_key=True):
            key = self.string_bytes(ks).decode("ascii")
            for tf in read_fixed(self.data, ks.end, 4):
                vtype = int.from_bytes(tf.known_bytes() or b"\xff" * 4,
                                       "little")
                if tf.markers or vtype not in TYPE_NAMES:
                    continue
                for v in self.read_value(tf.end, vtype, key):
                    out.append(KV(pos, v.end, key, vtype, ks.markers, v))
        groups = {}
        for kv in out:
            groups.setdefault((kv.key, kv.vtype, kv.end), []).append(kv)
        out = [g[0] if len(g) == 1 else merge_readings(g)
               for g in groups.values()]
        self._kv_memo[pos] = out
        return out

    def parses(self, pos, index, kv_count):
        """Number of ways (capped at 2) to read pairs index..kv_count-1 from
        `pos` so that the file ends exactly after the last one."""
        if index == kv_count:
            return 1 if pos == len(self.data) else 0
        memo_key = (pos, index)
        if memo_key in self._parses_memo:
            return self._parses_memo[memo_key]
        total = 0
        for kv in self.kv_readings(pos):
            total += effective_paths(kv) * self.parses(kv.end, index + 1,
                                                       kv_count)
            if total >= 2:
                break
        self._parses_memo[memo_key] = min(total, 2)
        return min(total, 2)

    def deepest(self, pos, index, kv_count, memo=None):
        """(index, offset) of the furthest pair any reading gets to."""
        memo = {} if memo is None else memo
        if (pos, index) in memo:
            return memo[(pos, index)]
        best = (index, pos)
        if index < kv_count:
            for kv in self.kv_readings(pos):
                best = max(best, self.deepest(kv.end, index + 1, kv_count,
                                              memo))
        memo[(pos, index)] = best
        return best


def wanted(key: str) -> bool:
    """Is this key written to the output (if recovered exactly)?"""
    return key == "general.architecture" or key.startswith("tokenizer.ggml.")


def effective_paths(kv: KV) -> int:
    """Ways this reading can hold that make a difference to the output: the
    contents of a key that is not written do not matter."""
    return kv.value.paths if wanted(kv.key) else 1


def merge_readings(members):
    """Several readings of one key that end at the same offset.  The rest of
    the file is read the same way after each, so they only need telling apart
    if one would be written: then their contents must agree.  (Typical case:
    a damaged count with damaged numbers - 200 values with every marker one
    byte wide or 201 with four markers two bytes wide end at the same place;
    the values are dropped either way.)"""
    first = members[0]
    info = dict(first.value.info, members=members)
    counts = sorted({m.value.info.get("count") for m in members} - {None})
    if wanted(first.key):
        outcomes = {m.value.payload() for m in members}
        if len(outcomes) > 1:
            info["ambiguous"] = (f"{len(members)} readings end at "
                                 f"{first.end:#x} with different contents"
                                 + (f" (element counts {counts[0]}.."
                                    f"{counts[-1]})" if counts else ""))
            return first._replace(value=first.value._replace(
                paths=2, info=info))
    detail = first.value.detail
    if len(counts) > 1:
        def detail(v=first.value):
            return (f"{v.lost} U+FFFD among its "
                    f"{TYPE_NAMES[v.info['elem']]} values; neither the "
                    f"element count (one of {counts[0]}..{counts[-1]}) nor "
                    "which values were hit is determined")
    return first._replace(value=first.value._replace(
        paths=1, info=info, detail=detail))


# --------------------------------------------------------------------------
# Reading the whole file


def read_header(data: bytes):
    if data[:4] != b"GGUF":
        raise RepairError("not a GGUF file (magic is not 'GGUF')")
    fields = []
    pos = 4
    for name, width in (("version", 4), ("tensor_count", 8),
                        ("kv_count", 8)):
        readings = read_fixed(data, pos, width)
        if len(readings) != 1 or readings[0].markers:
            raise RepairError(f"header field {name} is damaged")
        fields.append(int.from_bytes(readings[0].known_bytes(), "little"))
        pos = readings[0].end
    version, tensor_count, kv_count = fields
    if version != 3:
        raise RepairError(f"GGUF version {version}, expected 3")
    if tensor_count != 0:
        raise RepairError(f"tensor_count is {tensor_count}; only vocabulary "
                          "files without tensors are supported")
    return kv_count, pos


def read_pairs(gguf: DamagedGGUF, pos: int, kv_count: int):
    """The one consistent reading of all pairs, or RepairError."""
    data = gguf.data
    total = gguf.parses(pos, 0, kv_count)
    if total == 0:
        index, at = gguf.deepest(pos, 0, kv_count)
        if index == kv_count:
            raise RepairError(f"all {kv_count} keys read, but "
                              f"{len(data) - at} bytes are left at {at:#x}")
        names = sorted({data[k.start:k.end].decode() for k in
                        gguf.read_string(at, is_key=True)})
        if not names:
            raise RepairError(f"key #{index} at offset {at:#x}: no key can be "
                              "read there (file truncated or misread)")
        why = [gguf.failures[p][1] for p in sorted(gguf.failures) if p >= at]
        raise RepairError(f"key #{index} ({', '.join(names)}) at offset "
                          f"{at:#x}: no reading lets the rest of the file "
                          "parse" + (f"; {why[0]}" if why else ""))
    pairs = []
    for index in range(kv_count):
        ok = [kv for kv in gguf.kv_readings(pos)
              if gguf.parses(kv.end, index + 1, kv_count)]
        if len(ok) > 1:
            options = "; ".join(f"ending at {kv.end:#x}"
                                + (f" with {kv.value.info['count']} elements"
                                   if "count" in kv.value.info else "")
                                for kv in ok[:5])
            raise RepairError(f"key #{index} ({ok[0].key}) at offset "
                              f"{pos:#x} can be read {len(ok)} ways: "
                              f"{options}")
        kv = ok[0]
        if effective_paths(kv) > 1:
            raise RepairError(f"{kv.key}: "
                              + kv.value.info.get("ambiguous",
                                                  "more than one reading"))
        pairs.append(kv)
        pos = kv.end
    if total != 1:
        raise RepairError("the file can be read in more than one way")
    return pairs


# --------------------------------------------------------------------------
# SentencePiece model (protobuf, parsed by hand)


def read_varint(buf: bytes, pos: int):
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise RepairError("protobuf: truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise RepairError("protobuf: varint too long")


def protobuf_fields(buf: bytes):
    """Yield (field number, wire type, value) of one message; value is an int
    for wire type 0 and the raw bytes for wire types 1, 2 and 5."""
    pos = 0
    while pos < len(buf):
        tag, pos = read_varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = read_varint(buf, pos)
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, pos = buf[pos:pos + size], pos + size
        elif wire == 2:
            size, pos = read_varint(buf, pos)
            value, pos = buf[pos:pos + size], pos + size
        else:
            raise RepairError(f"protobuf: unsupported wire type {wire}")
        if pos > len(buf):
            raise RepairError("protobuf: truncated field")
        yield number, wire, value


def read_sentencepiece(path: str):
    """[(piece bytes, raw little-endian f32 score, type)] of a ModelProto."""
    with open(path, "rb") as f:
        buf = f.read()
    pieces = []
    for number, wire, value in protobuf_fields(buf):
        if number != 1:
            continue
        if wire != 2:
            raise RepairError(f"{path}: ModelProto field 1 has wire type "
                              f"{wire}, expected 2")
        piece, score, ptype = None, b"\0\0\0\0", 1  # proto defaults
        for n2, w2, v2 in protobuf_fields(value):
            if n2 == 1 and w2 == 2:
                piece = v2
            elif n2 == 2 and w2 == 5:
                score = v2
            elif n2 == 3 and w2 == 0:
                ptype = v2
        if piece is None:
            raise RepairError(f"{path}: piece #{len(pieces)} has no text")
        pieces.append((piece, score, ptype))
    if not pieces:
        raise RepairError(f"{path}: no pieces (not a SentencePiece model?)")
    return pieces


def scores_from_model(data: bytes, pairs, path: str):
    """Check the model against the damaged file; return (payload, report)."""
    by_key = {kv.key: kv for kv in pairs}
    if SCORES_KEY not in by_key or TOKENS_KEY not in by_key:
        raise RepairError(f"--scores-from: the file has no {SCORES_KEY} "
                          f"or no {TOKENS_KEY}")
    scores_kv, tokens = by_key[SCORES_KEY], by_key[TOKENS_KEY]
    if scores_kv.value.info.get("elem") != T_FLOAT32:
        raise RepairError(f"{SCORES_KEY} is not an f32 array")
    try:
        pieces = read_sentencepiece(path)
    except (RepairError, IndexError) as e:
        raise RepairError(f"--scores-from {path}: not a SentencePiece model "
                          f"({e})") from None
    # If the damaged count left several readings, use the model's count.
    readings = [m.value.info for m in
                scores_kv.value.info.get("members", [scores_kv])]
    info = next((i for i in readings if i["count"] == len(pieces)),
                readings[0])
    elements = tokens.value.info["elements"]()
    if len(pieces) != len(elements):
        raise RepairError(f"--scores-from: {len(pieces)} pieces in {path}, "
                          f"{len(elements)} tokens in the file")
    for i, (piece, _, _) in enumerate(pieces):
        if piece != elements[i]:
            raise RepairError(f"--scores-from: piece {i} is {piece!r} in "
                              f"{path} but token {i} is {elements[i]!r}")
    if info["count"] != len(pieces):
        raise RepairError(f"--scores-from: {SCORES_KEY} has {info['count']} "
                          f"values, the model {len(pieces)}")

    packed = b"".join(score for _, score, _ in pieces)
    start, end = info["region"]
    # Where each score lands in the damaged data if the model is right.
    spans = invalid_spans(packed)
    offsets, damaged_elems, si, shift = [], set(), 0, 0
    for k in range(len(pieces) + 1):
        while si < len(spans) and spans[si][1] <= 4 * k:
            shift += 3 - (spans[si][1] - spans[si][0])
            si += 1
        offsets.append(start + 4 * k + shift)
        if si < len(spans) and spans[si][0] < 4 * k + 4:
            damaged_elems.add(k)  # some byte of score k was replaced
    redamaged = damage(packed + data[end:end + 1])
    if redamaged != data[start:end + 1]:
        at = next((i for i, (a, b) in enumerate(zip(redamaged,
                                                    data[start:end + 1]))
                   if a != b), min(len(redamaged), end + 1 - start))
        k = min(bisect.bisect_right(offsets, start + at) - 1,
                len(pieces) - 1)
        raise RepairError(
            f"--scores-from: the model's scores, damaged the same way, do "
            f"not reproduce the file: first difference at offset "
            f"{start + at:#x}, score {k} (piece {pieces[k][0].decode()!r}, "
            f"model {struct.unpack('<f', pieces[k][1])[0]!r})")

    # Every score whose 4 bytes survived must equal the model's, bit for bit.
    # Locate them by the model's own damage pattern...
    checked = 0
    for k in range(len(pieces)):
        if k in damaged_elems:
            continue
        off = offsets[k]
        if data[off:off + 4] != pieces[k][1]:
            raise RepairError(f"--scores-from: score {k} survived but "
                              "differs from the model's")
        checked += 1
    # ...and, independently of the model, those before the first marker and
    # after the last one, whose place in the damaged data is fixed anyway.
    first = data.find(MARKER, start, end)
    last = data.rfind(MARKER, start, end)
    head = (first - start) // 4 if first >= 0 else len(pieces)
    tail = (end - (last + 3)) // 4 if last >= 0 else 0
    fixed = [(k, start + 4 * k) for k in range(head)]
    fixed += [(len(pieces) - 1 - i, end - 4 * (i + 1)) for i in range(tail)]
    for k, off in fixed:
        if data[off:off + 4] != packed[4 * k:4 * k + 4]:
            raise RepairError(f"--scores-from: score {k} survived but "
                              "differs from the model's")

    report = (f"{SCORES_KEY}: taken from {path}: {len(pieces)} pieces equal "
              f"the tokens; {checked} scores survived undamaged and equal "
              f"the model's ({len(fixed)} of them located without the "
              f"model); re-damaging all {len(pieces)} reproduces the file")
    type_kv = by_key.get(TOKEN_TYPE_KEY)
    if type_kv and type_kv.value.payload() is not None:
        types = struct.unpack(f"<{len(pieces)}i",
                              type_kv.value.payload()[12:]) \
            if type_kv.value.info["count"] == len(pieces) else None
        if types is not None:
            differ = sum(t != p[2] for t, p in zip(types, pieces))
            report += f"; token types differ from the model's: {differ}"
    return struct.pack("<IQ", T_FLOAT32, len(pieces)) + packed, report


# --------------------------------------------------------------------------
# Writing


def serialize_kv(key: str, vtype: int, payload: bytes) -> bytes:
    raw_key = key.encode("ascii")
    return struct.pack("<Q", len(raw_key)) + raw_key + \
        struct.pack("<I", vtype) + payload


def repair(data: bytes, scores_from=None, log=print):
    """Return (output bytes, summary counts)."""
    kv_count, pos = read_header(data)
    gguf = DamagedGGUF(data)
    pairs = read_pairs(gguf, pos, kv_count)

    scores_payload = None
    if scores_from:
        scores_payload, report = scores_from_model(data, pairs, scores_from)
        log(report)

    kept, dropped, omitted = [], [], []
    resolved = lost = from_model = literal = 0
    for kv in pairs:
        v = kv.value
        resolved += kv.key_markers + v.resolved
        if kv.key == SCORES_KEY and scores_payload is not None:
            from_model += v.lost
        else:
            lost += v.lost
        for raw in v.info["elements"]() if "elements" in v.info else ():
            literal += raw.count(MARKER)
        literal += v.info.get("string", b"").count(MARKER)
        if not wanted(kv.key):
            omitted.append(kv.key)
            continue
        payload = v.payload()
        if kv.key == SCORES_KEY and scores_payload is not None:
            payload = scores_payload
        if payload is None:
            dropped.append(kv.key)
            log(f"dropped {kv.key}: {v.detail()}")
            continue
        out = serialize_kv(kv.key, kv.vtype, payload)
        # Self-check: the recovered bytes, damaged again, are what we read.
        if damage(out + b"\0") != data[kv.start:kv.end] + b"\0":
            raise RepairError(f"internal check failed for {kv.key}: the "
                              "recovered bytes do not damage into the input")
        kept.append(out)

    total_markers = data.count(MARKER)
    accounted = resolved + lost + from_model + literal
    if accounted != total_markers:
        raise RepairError(f"internal check failed: {total_markers} U+FFFD in "
                          f"the file, {accounted} accounted for")
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kept))
    stats = {"kept": len(kept), "dropped": dropped, "omitted": omitted,
             "resolved": resolved, "lost": lost, "from_model": from_model,
             "literal": literal, "markers": total_markers}
    return header + b"".join(kept), stats


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Repair a GGUF vocabulary file damaged by a lossy UTF-8 "
                    "round trip (see the module docstring).")
    ap.add_argument("damaged", help="damaged GGUF file")
    ap.add_argument("out", help="repaired GGUF file to write")
    ap.add_argument("--scores-from", metavar="TOKENIZER_MODEL",
                    help="SentencePiece model to take tokenizer.ggml.scores "
                         "from (checked against the damaged file)")
    args = ap.parse_args(argv)

    def log(msg):
        print(msg, file=sys.stderr)

    t0 = time.monotonic()
    try:
        with open(args.damaged, "rb") as f:
            data = f.read()
        out, st = repair(data, args.scores_from, log)
        tmp = args.out + ".tmp"  # never leave a partial OUT behind
        with open(tmp, "wb") as f:
            f.write(out)
        os.replace(tmp, args.out)
    except (RepairError, OSError) as e:
        log(f"repair_gguf: {args.damaged}: error: {e}")
        return 1
    log(f"repair_gguf: {args.damaged} -> {args.out}: kept {st['kept']} keys, "
        f"dropped {len(st['dropped'])}"
        + (f" ({', '.join(st['dropped'])})" if st["dropped"] else "")
        + f", omitted {len(st['omitted'])} non-tokenizer keys; "
        f"{st['markers']} U+FFFD: {st['resolved']} in lengths/counts "
        f"(resolved), {st['lost']} in value bytes (lost), "
        + (f"{st['from_model']} in scores (replaced from the model), "
           if args.scores_from else "")
        + f"{st['literal']} inside strings (real text); "
        f"{time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
