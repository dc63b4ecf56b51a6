# ---- values: a JSON encoding that keeps Python types (tuple vs list, int vs float, sets) ----

DATE_TYPES = {datetime.date: "date", datetime.datetime: "datetime", datetime.time: "time"}
DATE_TYPES_BY_NAME = {name: kind for kind, name in DATE_TYPES.items()}


def encode(value):
    kind = type(value)
    if kind is int and not -(1 << 63) <= value < (1 << 63):
        return {"x": hex(value)}  # linear time, where str() of a huge int is quadratic
    if value is None or kind in (bool, int, float, str):
        return value
    if kind is list:
        return [encode(item) for item in value]
    if kind is tuple:
        return {"t": [encode(item) for item in value]}
    if kind is set or kind is frozenset:
        return {"s" if kind is set else "f": [encode(item) for item in value]}
    if kind is dict:
        return {"d": [[encode(k), encode(v)] for k, v in value.items()]}
    if kind in MAPPING_TYPES:
        return {"D": [kind.__name__, [[encode(k), encode(v)] for k, v in value.items()]]}
    if kind is collections.deque:
        return {"q": [encode(item) for item in value]}
    if kind is bytes:
        return {"b": value.hex()}
    if kind is complex:
        return {"c": [value.real, value.imag]}
    if kind is fractions.Fraction:
        return {"fr": [encode(value.numerator), encode(value.denominator)]}
    if kind is decimal.Decimal:
        return {"dc": str(value)}
    if kind in DATE_TYPES:
        return {"dt": [DATE_TYPES[kind], value.isoformat()]}
    if kind is datetime.timedelta:
        return {"td": [value.days, value.seconds, value.microseconds]}
    if kind is range:
        return {"r": [encode(value.start), encode(value.stop), encode(value.step)]}
    if numpy is not None and kind is numpy.ndarray:
        return {"nd": [value.dtype.str, encode(value.tolist())]}
    if numpy is not None and isinstance(value, numpy.generic):
        return {"np": [value.dtype.str, encode(value.item())]}
    return {"?": kind.__name__}


class Opaque:
    """A value that could not be carried out of the sandbox; equal to nothing."""
    def __init__(self, name):
        self.name = name

    def __eq__(self, other):
        return False

    __hash__ = object.__hash__


class Digest:
    """A large output, known by the SHA-256 of its memo-free pickle; equal only to the same digest."""
    def __init__(self, hex_digest):
        self.hex = hex_digest

    def __eq__(self, other):
        return isinstance(other, Digest) and other.hex == self.hex

    __hash__ = object.__hash__


class _TooLarge(Exception):
    pass


class _Sink:
    """File-like target of a pickler: hashes, or counts and stops past a limit."""
    def __init__(self, limit=None):
        self.size, self.limit, self.hash = 0, limit, hashlib.sha256()

    def write(self, data):
        self.size += len(data)
        if self.limit is not None:
            if self.size > self.limit:
                raise _TooLarge()
        else:
            self.hash.update(data)


def _pickle_into(value, sink):
    pickler = pickle.Pickler(sink, protocol=4)
    pickler.fast = True  # no memo: equal values pickle alike whatever objects they share
    pickler.dump(value)


def wire_value(value):
    """The value's encoding, or a digest when it is too large to carry (e.g. Mbpp/255's outputs).
    Digests assume equal values are built alike (same dict order, same numeric types)."""
    try:
        _pickle_into(value, _Sink(LARGE_VALUE))
    except _TooLarge:
        sink = _Sink()
        _pickle_into(value, sink)
        return {"h": sink.hash.hexdigest()}
    except Exception:
        pass  # unpicklable: encode() names its type
    return encode(value)


class NotPlain(Exception):
    """A reported value that is not a plain value (strict decoding); the argument names its type."""


PLAIN_DTYPE_KINDS = "biufcUS"  # numpy arrays a split assertion may compare: numbers and text


def decode(value, strict=False):
    """The value that encode() encoded. Not strict: what cannot be rebuilt is an Opaque (equal to
    nothing) or a Digest. Strict (a split assertion's values, from an untrusted child): anything
    but a plain value raises NotPlain, and so does a malformed encoding."""
    if isinstance(value, list):
        return [decode(item, strict) for item in value]
    if not isinstance(value, dict):
        return value
    try:
        (tag, body), = value.items()
        return _decode_tagged(tag, body, strict)
    except NotPlain:
        raise
    except Exception:  # a malformed encoding (from the child: anything may arrive)
        if strict:
            raise NotPlain("malformed value")
        return Opaque("malformed value")


def _decode_tagged(tag, body, strict):
    if tag == "x":
        return int(body, 16)
    if tag == "t":
        return tuple(decode(item, strict) for item in body)
    if tag == "s":
        return set(decode(item, strict) for item in body)
    if tag == "f":
        return frozenset(decode(item, strict) for item in body)
    if tag == "d":
        return {decode(k, strict): decode(v, strict) for k, v in body}
    if tag == "D":  # a defaultdict comes back as a plain dict: equality does not see the factory
        return MAPPING_TYPES_BY_NAME[body[0]]({decode(k, strict): decode(v, strict) for k, v in body[1]})
    if tag == "q":
        return collections.deque(decode(item, strict) for item in body)
    if tag == "b":
        return bytes.fromhex(body)
    if tag == "c":
        return complex(body[0], body[1])
    if tag == "fr":
        return fractions.Fraction(decode(body[0], strict), decode(body[1], strict))
    if tag == "dc":
        return decimal.Decimal(body)
    if tag == "dt":
        return DATE_TYPES_BY_NAME[body[0]].fromisoformat(body[1])
    if tag == "td":
        return datetime.timedelta(days=body[0], seconds=body[1], microseconds=body[2])
    if tag == "r":
        return range(decode(body[0], strict), decode(body[1], strict), decode(body[2], strict))
    if tag == "i" and strict:  # a lazy iterator a split assertion's call returned, consumed by the child
        return iter(decode(body, strict))
    if tag == "nd" and numpy is not None and (not strict or numpy.dtype(body[0]).kind in PLAIN_DTYPE_KINDS):
        return numpy.array(decode(body[1], strict), dtype=numpy.dtype(body[0]))
    if tag == "np" and numpy is not None and (not strict or numpy.dtype(body[0]).kind in PLAIN_DTYPE_KINDS):
        return numpy.dtype(body[0]).type(decode(body[1], strict))
    if strict:
        raise NotPlain(str(body) if tag == "?" else "encoding '%s'" % tag)
    if tag == "h":
        return Digest(body)
    return Opaque(str(body))


