"""Builds tiny OpenCLIP models with open_clip's own model code and random weights, saves them as OpenCLIP's
releases are (`open_clip_pytorch_model.bin`: a torch.save state dict), and writes their embeddings of fixed images
and texts: the reference of the OpenCLIP importer's parity test.

    python3 make_open_clip_references.py DIR [ARCH]   (needs PyTorch and the regex module)

ARCH is `tiny-vit` and `tiny-rn` (both by default: a ViT with GELU, a ModifiedResNet with QuickGELU) or one of
OpenCLIP's configurations (`ViT-B-32`, `RN50`, …) for the full-size parity check. Each goes to
DIR/open-clip-ARCH/: open_clip_pytorch_model.bin and references.json (the images, the texts, their ids from
open_clip's tokenizer, both towers' L2-normalised embeddings, whether the blocks use QuickGELU).

Reads DIR/downloads/open_clip_torch-2.24.0-py3-none-any.whl, ftfy's and wcwidth's wheels (fetched by
scripts/fetch-test-data.sh). open_clip's package __init__ pulls in its training and hub code; only model.py and
what it imports are loaded here, under an empty package, and torchvision (used for a frozen batch norm this script
never builds) is stood in for, so that Debian's python3-torch is enough.
"""

import json
import os
import sys
import types
import zipfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_weights import move_off_initial_values  # noqa: E402

WHEELS = ("ftfy-6.3.1-py3-none-any.whl", "wcwidth-0.2.13-py2.py3-none-any.whl")
OPEN_CLIP = "open_clip_torch-2.24.0-py3-none-any.whl"
TEXTS = ["a photo of a cat", "A RED dress on the left, and blue sneakers!", "一双运动鞋 and a bag", "it's 3 o'clock"]

TINY = {
    "tiny-vit": dict(
        quick_gelu=False,
        config=dict(
            embed_dim=32,
            vision_cfg=dict(image_size=32, layers=2, width=128, patch_size=8),
            text_cfg=dict(context_length=77, vocab_size=49408, width=128, heads=2, layers=2),
        ),
    ),
    "tiny-rn": dict(
        quick_gelu=True,
        config=dict(
            embed_dim=32,
            vision_cfg=dict(image_size=64, layers=[1, 2, 1, 1], width=8, patch_size=None),
            text_cfg=dict(context_length=77, vocab_size=49408, width=64, heads=1, layers=2),
        ),
    ),
}


def import_open_clip(directory):
    downloads = os.path.join(directory, "downloads")
    for wheel in WHEELS:
        sys.path.insert(0, os.path.join(downloads, wheel))
    source = os.path.join(directory, "open-clip-source")
    with zipfile.ZipFile(os.path.join(downloads, OPEN_CLIP)) as archive:
        for name in archive.namelist():
            if name.startswith("open_clip/") and not name.endswith("__init__.py"):
                archive.extract(name, source)
    package = os.path.join(source, "open_clip")
    with open(os.path.join(package, "__init__.py"), "w"):
        pass
    if "torchvision" not in sys.modules:
        misc = types.ModuleType("torchvision.ops.misc")
        misc.FrozenBatchNorm2d = type("FrozenBatchNorm2d", (torch.nn.Module,), {})
        ops = types.ModuleType("torchvision.ops")
        ops.misc = misc
        vision = types.ModuleType("torchvision")
        vision.ops = ops
        sys.modules.update({"torchvision": vision, "torchvision.ops": ops, "torchvision.ops.misc": misc})
    sys.path.insert(0, source)
    from open_clip.model import CLIP
    from open_clip.tokenizer import SimpleTokenizer

    return CLIP, SimpleTokenizer(bpe_path=os.path.join(package, "bpe_simple_vocab_16e6.txt.gz"))


def build(CLIP, source, arch):
    if arch in TINY:
        return CLIP(**TINY[arch]["config"], quick_gelu=TINY[arch]["quick_gelu"]), TINY[arch]["quick_gelu"]
    with open(os.path.join(source, "open_clip", "model_configs", arch + ".json")) as handle:
        config = json.load(handle)
    quick_gelu = config.pop("quick_gelu", False)  # the -quickgelu configurations say so themselves
    return CLIP(**config, quick_gelu=quick_gelu), quick_gelu


def write(directory, CLIP, tokenizer, arch):
    out = os.path.join(directory, "open-clip-" + arch)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model, quick_gelu = build(CLIP, os.path.join(directory, "open-clip-source"), arch)
    move_off_initial_values(model, logit_scale=4.3)
    model.eval()
    torch.save(model.state_dict(), os.path.join(out, "open_clip_pytorch_model.bin"))

    size = model.visual.image_size[0] if isinstance(model.visual.image_size, tuple) else model.visual.image_size
    images = torch.randn(3, 3, size, size)
    ids = tokenizer(TEXTS)
    with torch.no_grad():
        image_embeddings = model.encode_image(images, normalize=True)
        text_embeddings = model.encode_text(ids, normalize=True)
    references = {
        "quick_gelu": quick_gelu,
        "image_shape": list(images.shape),
        "images": images.flatten().tolist(),
        "texts": TEXTS,
        "ids": ids.tolist(),
        "image_embeddings": image_embeddings.tolist(),
        "text_embeddings": text_embeddings.tolist(),
        "logit_scale": model.logit_scale.item(),
    }
    with open(os.path.join(out, "references.json"), "w") as handle:
        json.dump(references, handle)
    print(f"OpenCLIP references written to {out} (torch {torch.__version__})")


def main():
    directory = sys.argv[1]
    archs = sys.argv[2:] or list(TINY)
    CLIP, tokenizer = import_open_clip(directory)
    for arch in archs:
        write(directory, CLIP, tokenizer, arch)


if __name__ == "__main__":
    main()
