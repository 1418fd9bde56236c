"""Stand-in shared libraries: for a library that a program links but never calls, a small
library of the same name that defines exactly the symbols the program's other libraries import
from it. A function traps (ud2) if it is ever called, unless it is named a no-op (then it
returns); an object is zero-filled, of the same size. Debian links many libraries with -z now,
so every imported symbol must exist even if nothing calls it.

Used by scripts/gpu/sysroot.py (the GPU check's sysroot, for a machine without Debian's
libraries); the default build no longer loads any stand-in.
"""
import os
import subprocess
import tempfile


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def needed(path):
    """The DT_NEEDED sonames of an ELF file, in order."""
    return [line.split("[")[1].rstrip("]") for line in run("readelf", "-d", path).splitlines() if "(NEEDED)" in line]


def imports(path):
    """Symbols an ELF file imports: {name: version or ""}."""
    out = {}
    for line in run("nm", "-D", "--undefined-only", path).splitlines():
        name, _, version = line.split()[-1].partition("@")
        out[name] = version.lstrip("@")
    return out


def exports(path):
    """Symbols an ELF file defines: {name: (nm type letter, size)}."""
    out = {}
    for line in run("nm", "-D", "-S", "--defined-only", path).splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        size = int(parts[1], 16) if len(parts) == 4 else 0
        out[parts[-1].partition("@")[0]] = (parts[-2], size)
    return out


def write_stub(real_path, soname, wanted, out_dir, noops=()):
    """Writes out_dir/soname standing in for real_path, defining those of `wanted` (names) that
    real_path defines. Returns the names defined."""
    defined = exports(real_path)
    lines = ["\t.text"]
    objects = []
    names = []
    for sym in sorted(wanted):
        if sym not in defined:
            continue
        kind, size = defined[sym]
        names.append(sym)
        if kind in ("T", "t", "W", "i"):
            lines += [f"\t.globl {sym}", f"\t.type {sym},@function", f"{sym}:", "\tret" if sym in noops else "\tud2"]
        else:
            objects += [f"\t.globl {sym}", f"\t.type {sym},@object", f"\t.size {sym},{max(size, 1)}",
                        f"{sym}:", f"\t.zero {max(size, 1)}"]
    if objects:
        lines += ["\t.data", "\t.balign 64"] + objects
    lines.append('\t.section .note.GNU-stack,"",@progbits')
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "stub.S")
        with open(src, "w") as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run(["gcc", "-shared", "-nostdlib", "-o", os.path.join(out_dir, soname), f"-Wl,-soname,{soname}", src],
                       check=True)
    return names
