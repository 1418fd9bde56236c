#!/usr/bin/env bash
# Run HERE (Debian 12, after scripts/install-deps.sh --with-bench) before a GPU check: fills
# .gpu/ (ignored by git; the device tool's `carry: [".gpu"]` takes it along, < 64 MiB) with
#   sysroot/  Debian's build dependencies and the libraries ptjs loads (scripts/gpu/sysroot.py)
#   py/       Debian's Flask and gunicorn (pure Python), the serve benchmark's peer
#   skimage-data/  python3-skimage's photos and test images (pip's scikit-image lacks some):
#                  the parity fixtures and scripts/photos.py read them
# The GPU machine (Ubuntu 24.04, pip torch with its CMake files) has no OpenCV C++, no yaml-cpp
# 0.7 and no registry to fetch them from. Then, there: bash scripts/gpu/check.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
gpu="$root/.gpu"
mkdir -p "$root/.git/info"
grep -qxF '/.gpu/' "$root/.git/info/exclude" 2>/dev/null || echo '/.gpu/' >> "$root/.git/info/exclude"
/usr/bin/python3 "$root/scripts/gpu/sysroot.py" "$gpu/sysroot"
rm -rf "$gpu/py" && mkdir -p "$gpu/py"
for pkg in flask werkzeug itsdangerous gunicorn blinker click jinja2 markupsafe; do
  cp -r "/usr/lib/python3/dist-packages/$pkg" "$gpu/py/"
done
find "$gpu/py" -name '__pycache__' -prune -exec rm -rf {} +
find "$gpu/py" -name '*.so' -delete
rm -rf "$gpu/photos" "$gpu/skimage-data"
cp -r /usr/lib/python3/dist-packages/skimage/data "$gpu/skimage-data"
du -sh "$gpu" "$gpu"/*
