#!/usr/bin/env bash
# Prepares the photos and the Pillow peer for `brivl bench data`:
#   benchmarks/prepare_data_images.sh [IMAGES_DIR (default .cache/bench-images)] [VENV (default .cache/bench-venv)]
# Photos: scikit-image 0.26.0's sample data (pip download, no install): its JPEGs as they are, and its colour
# photographs (PNG) re-encoded as JPEG quality 90 by Pillow, so the set mixes sizes from 451x300 to 1411x1411.
set -euo pipefail
images="${1:-.cache/bench-images}"
venv="${2:-.cache/bench-venv}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -c "import PIL, numpy" 2>/dev/null || "$venv/bin/pip" install --quiet Pillow numpy

download="$(mktemp -d)"
trap 'rm -rf "$download"' EXIT
"$venv/bin/pip" download --quiet --no-deps --dest "$download" scikit-image==0.26.0
mkdir -p "$images"
"$venv/bin/python" - "$download"/scikit_image-*.whl "$images" <<'PY'
import io, pathlib, sys, zipfile
from PIL import Image
wheel, out = sys.argv[1], pathlib.Path(sys.argv[2])
photos = {"astronaut", "chelsea", "coffee", "motorcycle_left", "motorcycle_right", "ihc", "color"}
with zipfile.ZipFile(wheel) as archive:
    for name in archive.namelist():
        path = pathlib.PurePosixPath(name)
        if path.parent.as_posix() != "skimage/data":
            continue
        if path.suffix == ".jpg":
            (out / path.name).write_bytes(archive.read(name))
        elif path.suffix == ".png" and path.stem in photos:
            image = Image.open(io.BytesIO(archive.read(name))).convert("RGB")
            image.save(out / f"{path.stem}.jpg", quality=90)
print(f"{len(list(out.glob('*.jpg')))} JPEG photos in {out}")
PY
echo "peer python: $venv/bin/python"
