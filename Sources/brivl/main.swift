import Torch
print(try Tensor([1.0, 2, 3, 4] as [Float], shape: [2, 2]))
