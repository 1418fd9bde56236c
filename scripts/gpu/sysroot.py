#!/usr/bin/env python3
"""Builds .gpu/sysroot HERE (Debian 12, after scripts/install-deps.sh) for a build of ptjs on a
machine without Debian's libraries (the GPU machine: Ubuntu 24.04, pip torch, no OpenCV C++).

  usr/...   the headers, CMake files and link libraries of the build's Debian -dev packages
  lib/      the shared libraries ptjs loads besides torch, glibc and libstdc++: OpenCV's core,
            imgproc and imgcodecs, yaml-cpp, cpp-httplib, libjpeg, and what they need in turn
  stubs/    stand-ins for the libraries OpenCV links but ptjs never calls (GDAL, GDCM, GLX,
            LAPACK, BLAS: ~200 MB with their own dependencies). Debian's OpenCV is linked
            with -z now, so every symbol these provide must exist: each stub defines exactly the
            symbols the carried libraries import from it, as code that traps if ever called.
            A test of the stubs is to run ptjs here with LD_LIBRARY_PATH=<sysroot>/stubs.
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import elfstub  # noqa: E402  (scripts/gpu/elfstub.py: the stand-in writer)

LIBDIR = "/lib/x86_64-linux-gnu"
DEV_PACKAGES = [
    "libopencv-core-dev", "libopencv-imgproc-dev", "libopencv-imgcodecs-dev", "libyaml-cpp-dev",
    "libcli11-dev", "libcpp-httplib-dev", "nlohmann-json3-dev", "libgtest-dev", "libjpeg62-turbo-dev",
    # httplib.h includes their headers (TLS, gzip and brotli support are compiled in)
    "libssl-dev", "zlib1g-dev", "libbrotli-dev",
]
# Programs carried too: pkg-config (CMake finds cpp-httplib with it) and wrk (serve benchmark).
PROGRAMS = {"/usr/bin/pkgconf": "pkg-config", "/usr/bin/wrk": "wrk"}
ROOTS = ["libpkgconf.so.3", "libluajit-5.1.so.2", "libopencv_core.so.406", "libopencv_imgproc.so.406", "libopencv_imgcodecs.so.406",
         "libyaml-cpp.so.0.7", "libcpp-httplib.so.0.11", "libjpeg.so.62"]
# Never carried: the target machine's own C and C++ runtimes are used (they are newer).
BASE = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "ld-linux-x86-64.so.2",
        "libstdc++.so.6", "libgcc_s.so.1"}
# Stub functions that return instead of trapping: called when imgcodecs builds its decoder
# list, void, and harmless to skip (GDAL with no drivers registered decodes nothing).
NOOPS = {"GDALAllRegister"}
# OpenEXR is carried, not stubbed: imgcodecs builds its EXR decoder (an OpenEXR object) when
# first used, whatever the image. The GDCM decoder's constructor and signature check are
# OpenCV's own code, and GDAL is used only with IMREAD_LOAD_GDAL.
STUBBED = ["libgdal.so.32", "libgdcmMSFF.so.3.0", "libgdcmDSED.so.3.0", "libGLX.so.0", "liblapack.so.3", "libblas.so.3"]


run, needed = elfstub.run, elfstub.needed


def closure():
    seen, todo = [], list(ROOTS)
    while todo:
        name = todo.pop()
        if name in seen or name in BASE or name in STUBBED:
            continue
        seen.append(name)
        todo.extend(needed(os.path.join(LIBDIR, name)))
    return sorted(seen)


# Debian's OpenCV CMake files list every module and check that each file exists; this one
# declares only the three modules ptjs links.
OPENCV_CONFIG = """\
# Written by scripts/gpu/sysroot.py: OpenCV 4.6 (Debian 12) core, imgproc and imgcodecs.
get_filename_component(_ptjs_sysroot "${CMAKE_CURRENT_LIST_DIR}/../../../../.." ABSOLUTE)
set(OpenCV_VERSION 4.6.0)
set(OpenCV_INCLUDE_DIRS "${_ptjs_sysroot}/usr/include/opencv4" "${_ptjs_sysroot}/usr/include/x86_64-linux-gnu/opencv4")
foreach(_m core imgproc imgcodecs)
  if(NOT TARGET opencv_${_m})
    add_library(opencv_${_m} SHARED IMPORTED)
    set_target_properties(opencv_${_m} PROPERTIES
      IMPORTED_LOCATION "${_ptjs_sysroot}/lib/libopencv_${_m}.so.406"
      INTERFACE_INCLUDE_DIRECTORIES "${OpenCV_INCLUDE_DIRS}")
  endif()
endforeach()
set(OpenCV_LIBS opencv_core opencv_imgproc opencv_imgcodecs)
set(OpenCV_FOUND TRUE)
"""
# Debian's .pc requires openssl's, zlib's and brotli's .pc files (for static links only).
HTTPLIB_PC = """\
prefix=${pcfiledir}/../../..
includedir=${prefix}/include
libdir=${prefix}/lib/x86_64-linux-gnu

Name: cpp-httplib
Description: A C++ HTTP/HTTPS server and client library (Debian 12, carried)
Version: 0.11.4
Libs: -L${libdir} -lcpp-httplib
Cflags: -I${includedir} -DCPPHTTPLIB_OPENSSL_SUPPORT -DCPPHTTPLIB_ZLIB_SUPPORT -DCPPHTTPLIB_BROTLI_SUPPORT
"""


WRAPPER = """\
#!/bin/sh
d="$(dirname "$0")"
LD_LIBRARY_PATH="$d/../lib${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}" exec "$d/{name}.bin" "$@"
"""


def write_text(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.remove(path)
    with open(path, "w") as f:
        f.write(text)


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".gpu/sysroot")
    if os.path.exists(root):
        shutil.rmtree(root)
    for package in DEV_PACKAGES:
        for path in run("dpkg", "-L", package).splitlines():
            # static libraries stay behind (the build links the shared ones), except gtest's
            if path.startswith("/usr/share/doc") or not os.path.isfile(path):
                continue
            if path.endswith(".a") and "gtest" not in path:
                continue
            dest = root + path
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy2(path, dest, follow_symlinks=False)
    libs = os.path.join(root, "lib")
    os.makedirs(libs)
    carried = closure()
    for name in carried:
        shutil.copy2(os.path.join(LIBDIR, name), os.path.join(libs, name))
    imported = {}
    for name in carried:
        imported.update(elfstub.imports(os.path.join(LIBDIR, name)))
    stubs = os.path.join(root, "stubs")
    os.makedirs(stubs)
    for name in STUBBED:
        print(f"stub {name}: {len(elfstub.write_stub(os.path.join(LIBDIR, name), name, imported, stubs, NOOPS))} symbols")
    # Every name a carried library has here (libfoo.so, libfoo.so.N.M: what the -dev packages'
    # links and CMake files use) points at the carried copy.
    devlib = os.path.join(root, "usr/lib/x86_64-linux-gnu")
    by_file = {os.path.realpath(os.path.join(LIBDIR, name)): name for name in carried}
    for entry in os.listdir(LIBDIR):
        soname = by_file.get(os.path.realpath(os.path.join(LIBDIR, entry)))
        if soname is None or entry == soname:
            continue
        link = os.path.join(devlib, entry)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(os.path.join("../../../lib", soname), link)
    write_text(os.path.join(devlib, "cmake/opencv4/OpenCVConfig.cmake"), OPENCV_CONFIG)
    write_text(os.path.join(devlib, "pkgconfig/cpp-httplib.pc"), HTTPLIB_PC)
    os.makedirs(os.path.join(root, "bin"))
    for program, name in PROGRAMS.items():  # each finds its libraries in lib/ through a wrapper
        shutil.copy2(program, os.path.join(root, "bin", name + ".bin"))
        write_text(os.path.join(root, "bin", name), WRAPPER.format(name=name))
        os.chmod(os.path.join(root, "bin", name), 0o755)
    size = sum(os.lstat(os.path.join(d, f)).st_size for d, _, fs in os.walk(root) for f in fs)
    print(f"{root}: {len(carried)} libraries carried, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
