#!/usr/bin/env bash
# Run HERE (Debian 12) before a GPU check: downloads the Debian packages the build needs that
# the GPU machine (Ubuntu 24.04, pip torch with CMake files, no OpenCV C++) lacks, into
# .gpu/debs (ignored by git; pass `.gpu` in the device tool's `carry`). Not yet verified on a
# GPU machine: no device was lent to the session that wrote it.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/.gpu/debs"
mkdir -p "$out"
grep -qxF '/.gpu/' "$root/.git/info/exclude" 2>/dev/null || echo '/.gpu/' >> "$root/.git/info/exclude"
pkgs="libopencv-dev libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libopencv-core406 libopencv-imgproc406 libopencv-imgcodecs406 libyaml-cpp-dev libyaml-cpp0.7
  libcli11-dev libcpp-httplib-dev nlohmann-json3-dev libgtest-dev libjpeg62-turbo-dev libjpeg62-turbo
  libpng16-16 libtiff6 libwebp7 libwebpdemux2 libwebpmux3 libopenjp2-7 libgdcm3.0 libgdal32 libopenexr-3-1-30
  libimath-3-1-29 libtbb12 libdeflate0 libjbig0 liblerc4"
cd "$out" && apt-get download $pkgs
du -sh "$out"
