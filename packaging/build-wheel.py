#!/usr/bin/env python3
"""Assembles the mockidp wheel around the already-built static binary (no build backend, no
Rust toolchain: the binary is built once, by packaging/build-static.sh, for every package).

    packaging/build-wheel.py BINARY OUT_DIR        prints the wheel's path

What maturin's ``bindings = "bin"`` would produce: the binary in ``{name}-{version}.data/scripts/``
(pip installs it, executable, into the environment's ``bin/``: PEP 427 "data" directories), the
pure-Python package ``mockidp`` (client + pytest plugin, ``py.typed``), and ``dist-info`` with
METADATA 2.4 from packaging/python/pyproject.toml, the pytest11 entry point, the licences and
a RECORD of sha256 digests (PEP 376 / 627). The binary links nothing dynamically, so the
platform tag only states the architecture and the oldest glibc platform tag pip knows
(manylinux2014 = glibc 2.17; the binary needs no glibc at all).
"""

from __future__ import annotations

import base64
import hashlib
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import List, Tuple

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / "packaging" / "python"
TAG = "py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64"
#: Fixed timestamp (1980-01-01, the zip epoch) so that two builds of the same inputs are identical.
EPOCH = (1980, 1, 1, 0, 0, 0)


def cargo_version() -> str:
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    return str(cargo["package"]["version"])


def metadata(project: dict, licenses: List[str]) -> str:
    lines = [
        "Metadata-Version: 2.4",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project['description']}",
        f"Requires-Python: {project['requires-python']}",
        f"License-Expression: {project['license']}",
        f"Keywords: {','.join(project['keywords'])}",
    ]
    lines += [f"Classifier: {c}" for c in project["classifiers"]]
    lines += [f"License-File: {name}" for name in licenses]
    lines.append("Description-Content-Type: text/markdown")
    readme = (PYTHON / project["readme"]).read_text()
    return "\n".join(lines) + "\n\n" + readme


def entry_points(project: dict) -> str:
    out = []
    for group, entries in project.get("entry-points", {}).items():
        out.append(f"[{group}]")
        out += [f"{name} = {target}" for name, target in entries.items()]
        out.append("")
    return "\n".join(out)


def record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build(binary: Path, out_dir: Path) -> Path:
    project = tomllib.loads((PYTHON / "pyproject.toml").read_text())["project"]
    version = project["version"]
    if version != cargo_version():
        sys.exit(f"packaging/python/pyproject.toml has {version}, Cargo.toml {cargo_version()}")
    name = project["name"]
    dist_info = f"{name}-{version}.dist-info"
    files: List[Tuple[str, bytes, int]] = []  # (path in the wheel, content, unix mode)
    for source in sorted((PYTHON / "mockidp").rglob("*")):
        if source.is_file() and "__pycache__" not in source.parts:
            files.append((source.relative_to(PYTHON).as_posix(), source.read_bytes(), 0o644))
    files.append((f"{name}-{version}.data/scripts/mockidp", binary.read_bytes(), 0o755))
    licenses = project["license-files"]
    for lic in licenses:
        files.append((f"{dist_info}/licenses/{lic}", (ROOT / lic).read_bytes(), 0o644))
    files.append((f"{dist_info}/METADATA", metadata(project, licenses).encode(), 0o644))
    wheel_meta = f"Wheel-Version: 1.0\nGenerator: mockidp build-wheel.py\nRoot-Is-Purelib: false\nTag: {TAG}\n"
    files.append((f"{dist_info}/WHEEL", wheel_meta.encode(), 0o644))
    files.append((f"{dist_info}/entry_points.txt", entry_points(project).encode(), 0o644))
    record = [record_line(path, data) for path, data, _ in files] + [f"{dist_info}/RECORD,,"]
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode(), 0o644))

    out_dir.mkdir(parents=True, exist_ok=True)
    wheel = out_dir / f"{name}-{version}-{TAG}.whl"
    partial = wheel.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data, mode in files:
            info = zipfile.ZipInfo(path, date_time=EPOCH)
            info.external_attr = (0o100000 | mode) << 16  # regular file + permissions
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    partial.replace(wheel)
    return wheel


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(build(Path(sys.argv[1]), Path(sys.argv[2])))
