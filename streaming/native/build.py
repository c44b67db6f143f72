"""Builds the native fan-out sender (``rtp_fanout.c``) with cffi in API mode.

Run by ``scripts/setup.sh`` (``python -m streaming.native.build``); needs a C compiler
and the Python headers (Debian: ``gcc``, ``python3-dev``). Without it the server uses the
plain per-packet path (``streaming/send_batch.py``); ``--check`` exits 1 if the module
is not importable, for scripts that want to know.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODULE = "streaming.native._rtp_fanout"

# What Python sees of rtp_fanout.c; ``...`` lets cffi take the real layout from the C.
CDEF = """
struct vb_dest { void *session; ...; };
struct vb_entry {
    uint64_t dest;
    uint64_t payload;
    int32_t fd;
    uint32_t ssrc;
    uint32_t timestamp;
    uint16_t payload_length;
    uint16_t sequence;
    uint8_t first_byte;
    uint8_t second_byte;
    uint8_t status;
    uint8_t reserved;
};
int vb_fan_out(uintptr_t protect_address, struct vb_entry *entries, int count,
               uint8_t *slots, int slot_size, int slot_count, int max_segments, int *counts);
struct vb_packet {
    uint64_t payload;
    uint32_t timestamp;
    uint16_t payload_length;
    uint16_t sequence;
    uint8_t marker;
    uint8_t reserved[7];
};
struct vb_writer {
    uint64_t dest;
    int32_t fd;
    uint32_t ssrc;
    uint32_t timestamp_offset;
    uint16_t sequence_offset;
    uint8_t payload_type;
    uint8_t reserved;
    int32_t start;
    int32_t end;
    int32_t sent;
    int32_t failed;
};
int vb_send_frame(uintptr_t protect_address, const struct vb_packet *packets,
                  struct vb_writer *writers, int writer_count, struct vb_entry *entries,
                  int entry_capacity, uint8_t *slots, int slot_size, int slot_count,
                  int max_segments, int *counts);
void vb_set_dest(struct vb_dest *dest, void *session, uint32_t address, uint16_t port);
"""


def build() -> Path:
    """Compile the module next to this file; returns its path."""
    from cffi import FFI

    ffi = FFI()
    ffi.cdef(CDEF)
    ffi.set_source(MODULE, (HERE / "rtp_fanout.c").read_text(), extra_compile_args=["-O2", "-Wall"])
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    with tempfile.TemporaryDirectory() as work:
        built = Path(ffi.compile(tmpdir=work, verbose=False))
        target = HERE / f"_rtp_fanout{suffix}"
        shutil.copyfile(built, target)
    return target


def main() -> int:
    if "--check" in sys.argv[1:]:
        from streaming.native import load

        return 0 if load() is not None else 1
    print(f"built {build()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
