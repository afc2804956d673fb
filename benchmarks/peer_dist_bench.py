#!/usr/bin/env python3
"""The peer side of `brivl bench dist`: PyTorch DistributedDataParallel over Gloo with OpenCLIP's distributed
CLIP loss (features gathered with gradient), on the peer benchmark's model shapes and synthetic tensors.

Runs WORLD_SIZE processes on this machine for one global batch and prints one JSON line (rank 0's figures):
median step seconds, pairs per second of the global batch, first and last loss.

    VENV/bin/python benchmarks/peer_dist_bench.py --peer-script PATH/peer_bench.py --config tiny --world-size 2
"""
import argparse
import importlib.util
import json
import math
import os
import socket
import statistics
import sys
import time


def load_peer(path):
    spec = importlib.util.spec_from_file_location("peer_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_main(rank, args, port, queue):
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    peer = load_peer(args.peer_script)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    world = args.world_size
    if world > 1:
        dist.init_process_group("gloo", rank=rank, world_size=world)
    import open_clip

    spec = peer.CONFIGS[args.config]
    model, cfg = peer.build_model(spec["model"])
    size = cfg["vision_cfg"]["image_size"]
    context = cfg["text_cfg"]["context_length"]
    vocab = cfg["text_cfg"]["vocab_size"]
    batch = args.batch
    rows = batch // world
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(batch, 3, size, size, generator=generator)[rank * rows:(rank + 1) * rows].contiguous()
    texts = torch.randint(1, vocab, (batch, context), generator=generator)[rank * rows:(rank + 1) * rows].contiguous()
    model.train()
    wrapped = DistributedDataParallel(model) if world > 1 else model
    loss_fn = open_clip.ClipLoss(local_loss=False, gather_with_grad=world > 1, rank=rank, world_size=world)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.2)
    times, losses = [], []
    for step in range(args.warmup + args.iterations):
        if world > 1:
            dist.barrier()
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        image_features, text_features, logit_scale = wrapped(images, texts)[:3]
        loss = loss_fn(image_features, text_features, logit_scale)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        elapsed = time.perf_counter() - start
        if step >= args.warmup:
            times.append(elapsed)
            losses.append(float(loss))
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    if rank == 0:
        queue.put(dict(kind="dist", config=args.config, world_size=world, threads_per_rank=args.threads,
                       global_batch=batch, median_s=statistics.median(times), n=len(times),
                       pairs_per_s=batch / statistics.median(times), loss_first=losses[0], loss_last=losses[-1]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer-script", required=True)
    parser.add_argument("--config", default="tiny")
    parser.add_argument("--world-size", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.batch % args.world_size:
        sys.exit("the batch must divide between the ranks")
    import torch.multiprocessing as mp

    context = mp.get_context("spawn")
    queue = context.Queue()
    port = free_port()
    processes = [context.Process(target=rank_main, args=(rank, args, port, queue)) for rank in range(args.world_size)]
    for process in processes:
        process.start()
    result = queue.get(timeout=1800)
    for process in processes:
        process.join()
        if process.exitcode != 0:
            sys.exit(f"a peer rank exited with status {process.exitcode}")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
