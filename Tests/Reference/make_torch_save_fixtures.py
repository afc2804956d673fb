"""Writes the torch.save files of the checkpoint-reader tests into DIR/torch-save, with what they hold.

    python3 make_torch_save_fixtures.py DIR      (needs PyTorch: Debian's python3-torch is enough)

Files (all written by PyTorch itself, except the re-packed and hand-made ones):
  state_dict.pt     an OrderedDict of every storage dtype, views sharing one storage (a transpose, a row at an
                    offset), an empty and a 0-dim tensor and a Parameter
  checkpoint.pt     a training checkpoint: epoch, step, a `module.`-prefixed state dict, an Adam state dict, and
                    scalars of every pickle kind (bool, None, float, a 2^40 int, negative int, bytes, a dtype)
  repacked.pt       state_dict.pt re-packed by Python's zipfile with ZIP64 local headers and no alignment
  compressed.pt     state_dict.pt re-packed with deflate
  legacy.pt         the pre-1.6 format (_use_new_zipfile_serialization=False)
  forbidden.pt      a pickle whose object reduces to os.system (it would create DIR/torch-save/pwned if run)
  torchscript.pt    torch.jit.save of a scripted Linear layer
  expected.json     for each tensor of state_dict.pt: dtype, shape, values (row-major, as floats)
"""

import collections
import json
import os
import sys
import zipfile

import torch


def main(directory: str) -> None:
    out = os.path.join(directory, "torch-save")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)

    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 4 - 1
    state = collections.OrderedDict()
    state["float32"] = base
    state["transposed"] = base.t()  # same storage, strides (1, 4)
    state["row"] = base[1]  # same storage, offset 4
    state["float64"] = torch.randn(2, 3, dtype=torch.float64)
    state["float16"] = torch.randn(5).half()
    state["bfloat16"] = torch.randn(2, 2).bfloat16()
    state["int64"] = torch.tensor([-(2**40), -1, 0, 7, 2**40])
    state["int32"] = torch.tensor([-3, 5], dtype=torch.int32)
    state["int16"] = torch.tensor([[-300, 300]], dtype=torch.int16)
    state["int8"] = torch.tensor([-128, 127], dtype=torch.int8)
    state["uint8"] = torch.tensor([0, 255, 3], dtype=torch.uint8)
    state["bool"] = torch.tensor([True, False, True])
    state["empty"] = torch.zeros(0, 3)
    state["scalar"] = torch.tensor(2.5)
    state["parameter"] = torch.nn.Parameter(torch.randn(3, 2))
    state["large"] = torch.randn(40, 25)
    state._metadata = collections.OrderedDict({"": {"version": 1}})
    torch.save(state, os.path.join(out, "state_dict.pt"))

    expected = {}
    for key, tensor in state.items():
        expected[key] = {
            "dtype": str(tensor.dtype).replace("torch.", ""),
            "shape": list(tensor.shape),
            "values": tensor.detach().double().flatten().tolist(),
        }
    with open(os.path.join(out, "expected.json"), "w") as handle:
        json.dump(expected, handle)

    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.5)
    model(torch.randn(2, 4)).sum().backward()
    optimizer.step()
    wrapped = collections.OrderedDict(("module." + key, value) for key, value in model.state_dict().items())
    checkpoint = {
        "epoch": 3,
        "step": 1234,
        "name": "训练 run",
        "state_dict": wrapped,
        "optimizer": optimizer.state_dict(),
        "lr": 0.5,
        "flags": [True, False, None],
        "big": 2**40,
        "negative": -5,
        "bytes": b"\x00\xff\x10",
        "dtype": torch.float16,
    }
    torch.save(checkpoint, os.path.join(out, "checkpoint.pt"))
    with open(os.path.join(out, "checkpoint.json"), "w") as handle:
        json.dump({key: value.tolist() for key, value in wrapped.items()}, handle)

    with zipfile.ZipFile(os.path.join(out, "state_dict.pt")) as source:
        for name, compression in (("repacked.pt", zipfile.ZIP_STORED), ("compressed.pt", zipfile.ZIP_DEFLATED)):
            with zipfile.ZipFile(os.path.join(out, name), "w", compression=compression) as target:
                for info in source.infolist():
                    with target.open(info.filename, "w", force_zip64=True) as member:
                        member.write(source.read(info.filename))

    torch.save(state, os.path.join(out, "legacy.pt"), _use_new_zipfile_serialization=False)

    marker = os.path.join(out, "pwned")
    if os.path.exists(marker):
        os.remove(marker)

    class Payload:
        def __reduce__(self):
            return (os.system, ("touch " + marker,))

    torch.save({"weights": base, "payload": Payload()}, os.path.join(out, "forbidden.pt"))

    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), os.path.join(out, "torchscript.pt"))
    print(f"torch.save fixtures written to {out} (torch {torch.__version__})")


if __name__ == "__main__":
    main(sys.argv[1])
