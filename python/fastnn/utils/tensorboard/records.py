"""TensorBoard's event-file encoding: ``Event`` protocol-buffer messages (only the fields the
writer uses, encoded by hand) framed as TFRecords (length, data, each with a masked CRC-32C)."""

import struct

# ---- CRC-32C (Castagnoli), the checksum of TFRecord framing ---------------------------------


def _crc_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(data: bytes) -> bytes:
    """One TFRecord: the length, its masked CRC, the data, the data's masked CRC."""
    length = struct.pack("<Q", len(data))
    return (
        length + struct.pack("<I", masked_crc(length)) + data + struct.pack("<I", masked_crc(data))
    )


# ---- protocol-buffer wire format --------------------------------------------------------------


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64s take ten bytes, as protobuf writes them
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field, wire):
    return _varint((field << 3) | wire)


def _bytes_field(field, data: bytes) -> bytes:
    return _key(field, 2) + _varint(len(data)) + data


def _int_field(field, n) -> bytes:
    return _key(field, 0) + _varint(int(n))


# ---- the messages -----------------------------------------------------------------------------

_DT_FLOAT, _DT_DOUBLE = 1, 2
_SESSION_START = 1


def scalar_value(tag: str, value: float) -> bytes:
    """Summary.Value{tag, simple_value}: the classic scalar."""
    return _bytes_field(1, tag.encode()) + _key(2, 5) + struct.pack("<f", value)


def tensor_scalar_value(tag: str, value: float, double: bool) -> bytes:
    """Summary.Value{tag, metadata: plugin "scalars", tensor: a 0-d float or double}."""
    plugin = _bytes_field(1, _bytes_field(1, b"scalars"))  # SummaryMetadata{plugin_data}
    if double:
        tensor = _int_field(1, _DT_DOUBLE) + _bytes_field(2, b"")
        tensor += _bytes_field(6, struct.pack("<d", value))
    else:
        tensor = _int_field(1, _DT_FLOAT) + _bytes_field(2, b"")
        tensor += _bytes_field(5, struct.pack("<f", value))
    return _bytes_field(1, tag.encode()) + _bytes_field(9, plugin) + _bytes_field(8, tensor)


def event(wall_time: float, step=None, *, file_version=None, values=(), session_start=False):
    """An Event message: wall time, step, and a file version, a Summary of ``values`` (encoded
    Summary.Value messages) or a SessionLog START."""
    out = _key(1, 1) + struct.pack("<d", wall_time)
    if step:
        out += _int_field(2, step)
    if file_version is not None:
        out += _bytes_field(3, file_version.encode())
    if values:
        out += _bytes_field(5, b"".join(_bytes_field(1, v) for v in values))
    if session_start:
        out += _bytes_field(7, _int_field(1, _SESSION_START))
    return out
