"""Checking a backup object while it streams: sha256 and size of the bytes, gzip integrity, and the
dump trailer pg_dump writes last (a dump cut short has none). One pass, bounded memory."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator

TRAILER = b"-- PostgreSQL database dump complete"
MAX_PIECE = 4 << 20  # decompressed output per step: a small gzip member cannot balloon in memory
_TAIL = 4096


class StreamCheck:
    """Feed the object's chunks in order; `feed` yields the decompressed dump, `problems()` says what failed."""

    def __init__(self, expected_sha256: str | None, expected_size: int | None) -> None:
        self.expected_sha256 = expected_sha256
        self.expected_size = expected_size
        self.size = 0
        self.dump_bytes = 0
        self.gzip_error: str | None = None
        self._sha = hashlib.sha256()
        self._gunzip = zlib.decompressobj(wbits=31)  # 16 + 15: gzip header and trailer (CRC32, length)
        self._tail = b""

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        self._sha.update(chunk)
        self.size += len(chunk)
        if self.gzip_error is not None:
            return
        if self._gunzip.eof:
            self.gzip_error = "data after the end of the gzip stream"
            return
        data = chunk
        while True:
            try:
                piece = self._gunzip.decompress(data, MAX_PIECE)
            except zlib.error as exc:
                self.gzip_error = str(exc)
                return
            data = self._gunzip.unconsumed_tail
            if piece:
                self.dump_bytes += len(piece)
                self._tail = (self._tail + piece)[-_TAIL:]
                yield piece
            if self._gunzip.eof:
                if data or self._gunzip.unused_data:
                    self.gzip_error = "data after the end of the gzip stream"
                return
            if not data and len(piece) < MAX_PIECE:
                return

    def checks(self) -> dict[str, bool]:
        """Call after the last chunk."""
        gzip_ok = self.gzip_error is None and self._gunzip.eof
        return {
            "size": self.expected_size is not None and self.size == self.expected_size,
            "sha256": self.expected_sha256 is not None and self.sha256 == self.expected_sha256,
            "gzip": gzip_ok,
            "trailer": gzip_ok and TRAILER in self._tail,
        }

    def problems(self) -> list[str]:
        found = []
        checks = self.checks()
        if not checks["size"]:
            found.append(f"size is {self.size} bytes, the metadata says {self.expected_size}")
        if not checks["sha256"]:
            found.append("sha256 does not match the metadata")
        if not checks["gzip"]:
            found.append(f"gzip stream is damaged: {self.gzip_error or 'it ends before its end marker'}")
        elif not checks["trailer"]:
            found.append("the dump has no completion trailer (cut short)")
        return found
