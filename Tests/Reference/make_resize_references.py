"""Reference values for the Imaging resampler (Tests/ImagingTests/ResizeTests.swift).

Separable resampling as Pillow defines it (ImagingResample: support-scaled kernels when shrinking, taps centred on
(i + 0.5) * scale + box_start, weights normalised per output), computed in float64 with NumPy, written as unrounded
values: the Swift side rounds once, so it must land within 0.5 (+ float32 slack) of these.

Pillow itself rounds and clips to uint8 between its horizontal and vertical passes; it agrees with these values
within 1, except where bicubic overshoot beyond [0, 255] is clipped in between (sharp 255 -> 0 edges, present in
this test pattern on purpose for the larger outputs).

    python3 Tests/Reference/make_resize_references.py   # rewrites Tests/Reference/resize_references.json
"""
import json
import math
import pathlib

import numpy as np


def bilinear(x):
    x = abs(x)
    return 1.0 - x if x < 1.0 else 0.0


def bicubic(x, a=-0.5):
    x = abs(x)
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    if x < 2.0:
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return 0.0


FILTERS = {"bilinear": (bilinear, 1.0), "bicubic": (bicubic, 2.0)}


def axis_matrix(in_size, out_size, start, end, name, antialias=True):
    """[out_size, in_size] matrix of normalised weights for one axis."""
    kernel, support = FILTERS[name]
    scale = (end - start) / out_size
    filter_scale = max(scale, 1.0) if antialias else 1.0
    support *= filter_scale
    matrix = np.zeros((out_size, in_size))
    for i in range(out_size):
        center = start + (i + 0.5) * scale
        low = max(int(math.floor(center - support + 0.5)), 0)
        high = min(int(math.floor(center + support + 0.5)), in_size)
        weights = np.array([kernel((x - center + 0.5) / filter_scale) for x in range(low, high)])
        matrix[i, low:high] = weights / weights.sum()
    return matrix


def resample(image, out_w, out_h, name, box=None, antialias=True):
    h, w, _ = image.shape
    x0, y0, x1, y1 = box if box is not None else (0.0, 0.0, float(w), float(h))
    rows = axis_matrix(h, out_h, y0, y1, name, antialias)
    cols = axis_matrix(w, out_w, x0, x1, name, antialias)
    return np.einsum("yh,hwc,xw->yxc", rows, image.astype(np.float64), cols)


def test_image(width, height):
    """The same deterministic pattern as ResizeTests.patternImage: a smooth ramp plus a hash-like texture."""
    y, x, c = np.meshgrid(np.arange(height), np.arange(width), np.arange(3), indexing="ij")
    return ((x * 37 + y * 91 + c * 53 + (x * y) % 7 * 19) % 256).astype(np.uint8)


def main():
    cases = []
    source = test_image(13, 9)
    for name in ("bilinear", "bicubic"):
        for out_w, out_h, box in ((5, 4, None), (3, 2, None), (9, 7, None), (4, 3, (2.0, 1.5, 11.0, 8.25)), (20, 14, None)):
            values = resample(source, out_w, out_h, name, box)
            cases.append({
                "filter": name, "width": out_w, "height": out_h, "box": list(box) if box else None,
                "values": [round(float(v), 6) for v in values.reshape(-1)],
            })
    out = {
        "source": {"width": 13, "height": 9, "pixels": source.reshape(-1).tolist()},
        "cases": cases,
    }
    path = pathlib.Path(__file__).resolve().parent / "resize_references.json"
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
