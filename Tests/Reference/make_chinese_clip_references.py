"""Builds a tiny Chinese-CLIP ViT with cn_clip's own model code and random weights, saves it in the release format,
and writes its embeddings of fixed images and texts: the reference of the importer's parity test.

    python3 make_chinese_clip_references.py DIR [ARCH]   (needs PyTorch; DIR holds the cn-clip wheel's files)

ARCH is `tiny` (the default: the tests' ViT), `tiny-rn` (the tests' ModifiedResNet with attention pooling, written to
DIR/chinese-clip-tiny-rn) or one of cn_clip's released vision configurations with its text encoder (`ViT-B-16`,
`ViT-L-14`, `ViT-H-14`, `RN50`, …), for the full-size parity check; those are written to DIR/chinese-clip-ARCH.

Reads DIR/downloads/cn_clip-1.6.0-py3-none-any.whl (fetched by scripts/fetch-test-data.sh) and DIR/vocab.txt.
Writes DIR/chinese-clip/clip_cn_tiny.pt, a torch.save dict as Chinese-CLIP's releases are ({"epoch", "step",
"name", "state_dict"} with `module.`-prefixed keys), and DIR/chinese-clip/references.json: the images
([3, 3, 32, 32], flattened), the texts, their ids from cn_clip.clip.tokenize, and both towers' L2-normalised
embeddings.

cn_clip's package imports torchvision for its image transforms, which this script never uses: a stand-in module
takes its place so that Debian's python3-torch is enough.
"""

import collections
import json
import os
import sys
import types
import zipfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_weights import move_off_initial_values  # noqa: E402


def import_cn_clip(directory: str):
    source = os.path.join(directory, "chinese-clip", "cn_clip_source")
    wheel = os.path.join(directory, "downloads", "cn_clip-1.6.0-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith("cn_clip/clip/") or name == "cn_clip/__init__.py":
                archive.extract(name, source)
    if "torchvision" not in sys.modules:
        transforms = types.ModuleType("torchvision.transforms")
        for name in ("Compose", "ToTensor", "Normalize", "Resize", "InterpolationMode"):
            setattr(transforms, name, None)
        vision = types.ModuleType("torchvision")
        vision.transforms = transforms
        sys.modules["torchvision"] = vision
        sys.modules["torchvision.transforms"] = transforms
    sys.path.insert(0, source)
    import cn_clip.clip as clip
    from cn_clip.clip.model import CLIP

    return clip, CLIP


TEXT_ENCODERS = {
    "RN50": "RBT3-chinese",
    "ViT-B-16": "RoBERTa-wwm-ext-base-chinese",
    "ViT-B-32": "RoBERTa-wwm-ext-base-chinese",
    "ViT-L-14": "RoBERTa-wwm-ext-large-chinese",
    "ViT-L-14-336": "RoBERTa-wwm-ext-large-chinese",
    "ViT-H-14": "RoBERTa-wwm-ext-large-chinese",
}


def released_arguments(source: str, arch: str) -> dict:
    configs = os.path.join(source, "cn_clip", "clip", "model_configs")
    with open(os.path.join(configs, arch + ".json")) as handle:
        arguments = json.load(handle)
    with open(os.path.join(configs, TEXT_ENCODERS[arch] + ".json")) as handle:
        arguments.update(json.load(handle))
    if isinstance(arguments["vision_layers"], str):  # RN50.json writes its depths as "[3,4,6,3]"
        arguments["vision_layers"] = json.loads(arguments["vision_layers"])
    return arguments


TINY_TEXT = dict(
    vocab_size=21128,
    text_attention_probs_dropout_prob=0.1,
    text_hidden_act="gelu",
    text_hidden_dropout_prob=0.1,
    text_hidden_size=128,
    text_initializer_range=0.02,
    text_intermediate_size=256,
    text_max_position_embeddings=64,
    text_num_attention_heads=2,
    text_num_hidden_layers=2,
    text_type_vocab_size=2,
)


def main(directory: str, arch: str) -> None:
    out = os.path.join(directory, "chinese-clip" if arch == "tiny" else "chinese-clip-" + arch)
    os.makedirs(out, exist_ok=True)
    clip, CLIP = import_cn_clip(directory)
    torch.manual_seed(0)
    if arch not in ("tiny", "tiny-rn"):
        arguments = released_arguments(os.path.join(directory, "chinese-clip", "cn_clip_source"), arch)
        model = CLIP(**arguments)
        size = arguments["image_resolution"]
    elif arch == "tiny-rn":
        # Stem width 8: stages of 8…64 base channels, 256 out, four 64-wide attention-pool heads over 2×2 cells.
        size = 64
        model = CLIP(
            embed_dim=32, image_resolution=64, vision_layers=[1, 2, 1, 1], vision_width=8, vision_patch_size=None,
            **TINY_TEXT)
    else:
        size = 32
        model = CLIP(
            embed_dim=32, image_resolution=32, vision_layers=2, vision_width=128, vision_patch_size=8, **TINY_TEXT)
    move_off_initial_values(model, logit_scale=4.2)
    model.eval()

    state = collections.OrderedDict(("module." + key, value) for key, value in model.state_dict().items())
    name = "clip_cn_" + arch.lower() + ".pt"
    torch.save({"epoch": 2, "step": 100, "name": arch, "state_dict": state}, os.path.join(out, name))

    images = torch.randn(3, 3, size, size)
    texts = ["一双运动鞋", "红色的连衣裙在左边", "a photo of a bag 和一件外套"]
    ids = clip.tokenize(texts, context_length=52)
    with torch.no_grad():
        image_embeddings = model.encode_image(images)
        text_embeddings = model.encode_text(ids)
    image_embeddings = image_embeddings / image_embeddings.norm(dim=-1, keepdim=True)
    text_embeddings = text_embeddings / text_embeddings.norm(dim=-1, keepdim=True)
    references = {
        "image_shape": list(images.shape),
        "images": images.flatten().tolist(),
        "texts": texts,
        "ids": ids.tolist(),
        "image_embeddings": image_embeddings.tolist(),
        "text_embeddings": text_embeddings.tolist(),
        "logit_scale": model.logit_scale.item(),
    }
    with open(os.path.join(out, "references.json"), "w") as handle:
        json.dump(references, handle)
    print(f"Chinese-CLIP references written to {out} (torch {torch.__version__})")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "tiny")
