"""Peer side of `brivl bench data`: the torchvision-style PIL pipeline, driven over stdin by the Swift benchmark.

For each file: Image.open -> convert("RGB") -> resize(shorter side 224, BICUBIC) -> center crop 224 -> np.asarray,
exactly what torchvision's Resize(224, InterpolationMode.BICUBIC) + CenterCrop(224) do on PIL images (OpenCLIP's
image transform before ToTensor/Normalize). One thread: Pillow's resize and NumPy's copy are single-threaded.

Protocol (one line each way):
    start:            python3 pillow_decode.py FILELIST      -> {"ready": true, "pillow": ..., "numpy": ...}
    "round N"         runs every file N times                 -> {"seconds": s, "images": n}
    "dump DIR"        writes DIR/<index>.rgb (224*224*3 bytes) -> {"dumped": n}
    "quit"
"""
import json
import sys
import time

try:
    import numpy as np
    from PIL import Image, features
except ImportError as error:  # reported by the Swift side with install instructions
    print(json.dumps({"ready": False, "error": str(error)}), flush=True)
    sys.exit(0)

SIZE = 224


def process(path):
    with Image.open(path) as image:
        image = image.convert("RGB")
        width, height = image.size
        if width <= height:
            new_width, new_height = SIZE, int(SIZE * height / width)
        else:
            new_width, new_height = int(SIZE * width / height), SIZE
        image = image.resize((new_width, new_height), Image.BICUBIC)
        left = int(round((new_width - SIZE) / 2.0))
        top = int(round((new_height - SIZE) / 2.0))
        image = image.crop((left, top, left + SIZE, top + SIZE))
        return np.asarray(image)


def main():
    with open(sys.argv[1]) as listing:
        files = [line.rstrip("\n") for line in listing if line.strip()]
    print(json.dumps({
        "ready": True, "pillow": Image.__version__, "numpy": np.__version__,
        "libjpeg_turbo": features.version("libjpeg_turbo"),
    }), flush=True)
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "round":
            repeats = int(argument)
            start = time.perf_counter()
            for _ in range(repeats):
                for path in files:
                    process(path)
            seconds = time.perf_counter() - start
            print(json.dumps({"seconds": seconds, "images": repeats * len(files)}), flush=True)
        elif command == "dump":
            for index, path in enumerate(files):
                with open(f"{argument}/{index}.rgb", "wb") as out:
                    out.write(np.ascontiguousarray(process(path)).tobytes())
            print(json.dumps({"dumped": len(files)}), flush=True)
        elif command == "quit":
            break
        else:
            print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)


if __name__ == "__main__":
    main()
