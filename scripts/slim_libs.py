#!/usr/bin/env python3
"""Writes stand-ins for the shared libraries that Debian's libtorch and OpenCV link but ptjs
never calls, into the folder the ptjs binary searches first (its DT_RPATH; CMake's build step
runs this after each link of ptjs, see PTJS_SLIM_LIBS in CMakeLists.txt).

Why: Debian's libtorch_cpu.so links OpenCV's video, DNN, GUI and flow modules, ffmpeg, ZeroMQ,
LevelDB and LMDB for caffe2 operators TorchScript never runs, and imports not one symbol from
them; OpenCV's imgcodecs links GDAL, which it calls only for IMREAD_LOAD_GDAL (never passed by
ptjs). With their own dependencies that is ~180 of the ~290 libraries a ptjs process loads,
and their loading and constructors were a third of the time `ptjs --version` takes.

A stand-in defines exactly the symbols the libraries still loaded import from it and no other
library defines: functions trap (ud2) if ever called, except the no-ops below; objects are
zeros. A library stands in only when every such symbol is unversioned (a stand-in has no
version table). The result is checked by running `ptjs --version` with every symbol bound at
load (LD_BIND_NOW=1); if that fails, the folder is emptied and ptjs loads the real libraries.

usage: slim_libs.py PTJS_BINARY OUT_DIR
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import elfstub  # noqa: E402

STAND_INS = [
    # linked by libtorch_cpu.so for caffe2 (video, image and database operators): no symbol used
    "libopencv_highgui.so.406", "libopencv_optflow.so.406", "libopencv_videoio.so.406",
    "libopencv_video.so.406", "libopencv_dnn.so.406", "libopencv_calib3d.so.406",
    "libopencv_features2d.so.406", "libopencv_flann.so.406", "libopencv_ximgproc.so.406",
    "libavcodec.so.59", "libavformat.so.59", "libavutil.so.57", "libswscale.so.6", "libswresample.so.4",
    "libzmq.so.5", "libleveldb.so.1d", "liblmdb.so.0", "libsnappy.so.1",
    # linked by OpenCV's imgcodecs for its GDAL decoder (IMREAD_LOAD_GDAL only)
    "libgdal.so.32",
]
# Called when imgcodecs builds its list of decoders; registers GDAL's drivers, which are never used.
NOOPS = {"GDALAllRegister"}


def search_dirs(path, out_dir):
    """The RPATH/RUNPATH folders of one ELF file, $ORIGIN expanded, out_dir left out."""
    dirs = []
    for line in elfstub.run("readelf", "-d", path).splitlines():
        if "(RPATH)" in line or "(RUNPATH)" in line:
            for d in line.split("[", 1)[1].rstrip("]").split(":"):
                d = d.replace("$ORIGIN", os.path.dirname(path))
                if d and os.path.realpath(d) != os.path.realpath(out_dir):
                    dirs.append(d)
    return dirs


def system_libs():
    """soname -> path, as the loader's cache has them."""
    out = {}
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"  # /sbin is not on every user's PATH
    for line in elfstub.run(ldconfig, "-p").splitlines()[1:]:
        name, _, path = line.strip().partition(" => ")
        if "x86-64" in name or "x86_64" in path:
            out.setdefault(name.split()[0], path)
    return out


def closure(binary, stand_ins, out_dir, cache):
    """Paths of the libraries loaded with `stand_ins` standing in (binary first), and the
    stand-ins actually reached: {soname: real path}."""
    loaded, reached, todo, seen = [binary], {}, [(binary, n) for n in elfstub.needed(binary)], set()
    extra = search_dirs(binary, out_dir)
    while todo:
        parent, name = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        dirs = search_dirs(parent, out_dir) + extra
        path = next((os.path.join(d, name) for d in dirs if os.path.exists(os.path.join(d, name))), cache.get(name))
        if path is None:
            continue  # the loader will say so; not this script's business
        if name in stand_ins:
            reached[name] = path
            continue
        loaded.append(path)
        todo.extend((path, n) for n in elfstub.needed(path))
    return loaded, reached


def plan(binary, out_dir):
    """The stand-ins to write: {soname: (real path, symbols to define)}, and the libraries loaded."""
    cache = system_libs()
    stand_ins = set(STAND_INS)
    while True:
        loaded, reached = closure(binary, stand_ins, out_dir, cache)
        wanted, defined_here = {}, set()
        for path in loaded:
            wanted.update(elfstub.imports(path))
            defined_here.update(elfstub.exports(path))
        result, rejected = {}, []
        for name, path in reached.items():
            exported = elfstub.exports(path)  # one nm per stand-in, not one per symbol
            symbols = {s: v for s, v in wanted.items() if s not in defined_here and s in exported}
            if any(symbols.values()):
                rejected.append(name)
            result[name] = (path, set(symbols))
        if not rejected:
            return result, loaded
        print(f"slim_libs: not standing in for {', '.join(rejected)} (versioned symbols imported)")
        stand_ins -= set(rejected)


def empty(out_dir):
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)


def main():
    binary, out_dir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    empty(out_dir)
    try:
        write(binary, out_dir)
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as e:
        # no readelf, nm or gcc, an unexpected listing: ptjs loads the real libraries
        empty(out_dir)
        print(f"slim_libs: WARNING: no stand-ins ({e}); ptjs will load the real libraries")


def write(binary, out_dir):
    result, loaded = plan(binary, out_dir)
    traps = 0
    for name, (path, symbols) in sorted(result.items()):
        traps += len(elfstub.write_stub(path, name, symbols, out_dir, NOOPS))
    env = dict(os.environ, LD_BIND_NOW="1")
    env.pop("LD_LIBRARY_PATH", None)
    check = subprocess.run([binary, "--version"], env=env, capture_output=True, text=True)
    if check.returncode != 0 or check.stderr.strip():
        empty(out_dir)
        print(f"slim_libs: WARNING: ptjs failed with the stand-ins ({check.stderr.strip()[:300]}); "
              "it will load the real libraries")
        return
    print(f"slim_libs: {len(result)} stand-ins ({traps} trapping symbols) in {out_dir}; "
          f"{len(loaded) - 1} libraries loaded")


if __name__ == "__main__":
    main()
