"""The peer side of `brivl bench embed`: a released checkpoint embedded by its own project's PyTorch code.

    python3 peer_embed.py --family chinese-clip|open-clip --arch ARCH --checkpoint FILE --data DIR
                          --batch N --rounds R --warmup W --threads T

Chinese-CLIP (cn_clip 1.6's model code) or OpenCLIP (open_clip 2.24's), loaded from the wheels in DIR/downloads the
way Tests/Reference/ loads them; ARCH names the project's configuration (ViT-B-16, RN50, ViT-B-32, …). Each round
embeds N random images of the model's size (the tower alone: no decoding, as on our side) and N captions
(tokenising included, as our embedTexts does), in evaluation mode without autograd. Prints one JSON line:
{"images_s": [...], "texts_s": [...], "torch": version, "threads": T}, the seconds of each timed round.
"""

import argparse
import json
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Tests", "Reference"))

CAPTIONS = ["一双运动鞋", "红色的连衣裙在左边", "a photo of a bag 和一件外套", "海边的日落", "a dog running on the beach",
            "两只猫坐在沙发上", "a bowl of noodles with chopsticks", "夜晚城市的街道"]


def chinese_clip(data, arch, checkpoint):
    import make_chinese_clip_references as reference

    clip, CLIP = reference.import_cn_clip(data)
    arguments = reference.released_arguments(os.path.join(data, "chinese-clip", "cn_clip_source"), arch)
    model = CLIP(**arguments)
    state = torch.load(checkpoint, map_location="cpu")["state_dict"]
    model.load_state_dict({key[len("module."):]: value for key, value in state.items()})
    return model, arguments["image_resolution"], lambda texts: clip.tokenize(texts, context_length=52)


def open_clip(data, arch, checkpoint):
    import make_open_clip_references as reference

    CLIP, tokenizer = reference.import_open_clip(data)
    with open(os.path.join(data, "open-clip-source", "open_clip", "model_configs", arch + ".json")) as handle:
        config = json.load(handle)
    quick_gelu = config.pop("quick_gelu", False)
    model = CLIP(**config, quick_gelu=quick_gelu)
    model.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    return model, config["vision_cfg"]["image_size"], tokenizer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--family", choices=["chinese-clip", "open-clip"], required=True)
    parser.add_argument("--arch", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    build = chinese_clip if arguments.family == "chinese-clip" else open_clip
    model, size, tokenize = build(arguments.data, arguments.arch, arguments.checkpoint)
    model.eval()
    images = torch.randn(arguments.batch, 3, size, size, generator=torch.Generator().manual_seed(0))
    texts = [CAPTIONS[i % len(CAPTIONS)] for i in range(arguments.batch)]
    timings = {"images_s": [], "texts_s": []}
    with torch.no_grad():
        for round in range(arguments.warmup + arguments.rounds):
            start = time.perf_counter()
            model.encode_image(images)
            image_seconds = time.perf_counter() - start
            start = time.perf_counter()
            model.encode_text(tokenize(texts))
            text_seconds = time.perf_counter() - start
            if round >= arguments.warmup:
                timings["images_s"].append(image_seconds)
                timings["texts_s"].append(text_seconds)
    print(json.dumps({**timings, "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
