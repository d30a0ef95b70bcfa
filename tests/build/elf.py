"""What the dynamic loader of Lambda would see in an ELF file: machine, loader, needed libraries, their
search path, the glibc versions it asks for, and the dynamic symbols it imports and exports (pyelftools)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection, GNUVerSymSection
from elftools.elf.sections import SymbolTableSection
from elftools.elf.segments import InterpSegment

ELF_MAGIC = b"\x7fELF"
GLIBC_VERSION = re.compile(r"^GLIBC_(\d+)\.(\d+)(?:\.(\d+))?$")
_UNVERSIONED = ("VER_NDX_LOCAL", "VER_NDX_GLOBAL", 0, 1)
_STRING_TAGS = {"DT_NEEDED": "needed", "DT_SONAME": "soname", "DT_RPATH": "rpath", "DT_RUNPATH": "runpath"}


@dataclass
class Elf:
    path: Path
    machine: str
    interpreter: str | None
    soname: str | None
    needed: list[str]
    search_path: list[str]  # DT_RPATH and DT_RUNPATH entries, as written ($ORIGIN unexpanded)
    version_needs: dict[str, list[str]]  # library -> versions asked of it, e.g. {"libc.so.6": ["GLIBC_2.17"]}
    imports: set[str] = field(repr=False)  # undefined global dynamic symbols (weak ones left out)
    unversioned_imports: set[str] = field(repr=False)  # ... of those, the ones bound to no symbol version
    exports: set[str] = field(repr=False)  # defined global or weak dynamic symbols

    @property
    def glibc(self) -> tuple[int, ...]:
        """The newest GLIBC_x.y this file needs, (0,) if none."""
        found = [
            tuple(int(part) for part in m.groups() if part is not None)
            for versions in self.version_needs.values()
            for m in map(GLIBC_VERSION.match, versions)
            if m
        ]
        return max(found, default=(0,))

    def search_dirs(self) -> list[Path]:
        """DT_RPATH / DT_RUNPATH directories, $ORIGIN expanded to this file's directory."""
        origin = str(self.path.parent)
        return [
            Path(os.path.normpath(entry.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)))
            for entry in self.search_path
        ]


def is_elf(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as fh:
        return fh.read(4) == ELF_MAGIC


def elf_files(root: Path) -> Iterator[Path]:
    for directory, _, names in os.walk(root):
        for name in sorted(names):
            path = Path(directory, name)
            if is_elf(path):
                yield path


def read(path: Path) -> Elf:
    with path.open("rb") as fh:
        elf = ELFFile(fh)
        interps = [seg.get_interp_name() for seg in elf.iter_segments() if isinstance(seg, InterpSegment)]
        interpreter = interps[0] if interps else None
        needed: list[str] = []
        search_path: list[str] = []
        soname = None
        version_needs: dict[str, list[str]] = {}
        imports: set[str] = set()
        unversioned: set[str] = set()
        exports: set[str] = set()
        versym: GNUVerSymSection | None = None
        for section in elf.iter_sections():
            if isinstance(section, GNUVerSymSection):
                versym = section
        for section in elf.iter_sections():
            if isinstance(section, DynamicSection):
                for tag in section.iter_tags():
                    kind = tag.entry.d_tag
                    if kind in _STRING_TAGS:
                        value = str(getattr(tag, _STRING_TAGS[kind]))
                        if kind == "DT_NEEDED":
                            needed.append(value)
                        elif kind == "DT_SONAME":
                            soname = value
                        else:
                            search_path += value.split(":")
            elif isinstance(section, GNUVerNeedSection):
                for verneed, auxiliaries in section.iter_versions():
                    version_needs[str(verneed.name)] = [str(aux.name) for aux in auxiliaries]
            elif isinstance(section, SymbolTableSection) and section.name == ".dynsym":
                for index, symbol in enumerate(section.iter_symbols()):
                    bind = symbol["st_info"]["bind"]
                    if not symbol.name or bind == "STB_LOCAL":
                        continue
                    if symbol["st_shndx"] != "SHN_UNDEF":
                        exports.add(symbol.name)
                    elif bind == "STB_GLOBAL":
                        imports.add(symbol.name)
                        if versym is None or versym.get_symbol(index).entry["ndx"] in _UNVERSIONED:
                            unversioned.add(symbol.name)
        return Elf(
            path=path,
            machine=elf["e_machine"],
            interpreter=interpreter,
            soname=soname,
            needed=needed,
            search_path=[entry for entry in search_path if entry],
            version_needs=version_needs,
            imports=imports,
            unversioned_imports=unversioned,
            exports=exports,
        )


def links_openssl(libpq: Elf, libraries: dict[str, Elf]) -> list[str]:
    """Why `libpq` would connect without TLS (empty when it has TLS): it must need a libssl and a libcrypto
    that are shipped (`libraries`, by file name) and import OpenSSL's handshake from them."""
    problems = []
    ssl = [name for name in libpq.needed if name.startswith("libssl")]
    crypto = [name for name in libpq.needed if name.startswith("libcrypto")]
    if not ssl or not crypto:
        problems.append(f"{libpq.path.name} needs no libssl/libcrypto (needs {libpq.needed}): built without TLS")
    for name in ssl + crypto:
        if name not in libraries:
            problems.append(f"{libpq.path.name} needs {name}, which is not shipped beside it")
    # The handshake, and the certificate checks of sslmode=verify-full with an sslrootcert file.
    handshake = {"SSL_CTX_new", "SSL_new", "SSL_connect", "SSL_CTX_load_verify_locations", "SSL_get_verify_result"}
    missing = handshake - libpq.imports
    if missing:
        problems.append(f"{libpq.path.name} does not call {sorted(missing)}: built without OpenSSL")
    for name in ssl:
        if name in libraries and handshake - libraries[name].exports:
            problems.append(f"{name} does not define {sorted(handshake - libraries[name].exports)}")
    return problems
