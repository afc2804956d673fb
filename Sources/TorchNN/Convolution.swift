import Torch

/// 2-D convolution over [N, C, H, W].
public final class Conv2d: Module, UnaryLayer {
    /// [outputChannels, inputChannels / groups, kernelHeight, kernelWidth]
    public let weight: Tensor
    /// [outputChannels]
    public let bias: Tensor?
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    public let dilation: (Int, Int)
    public let groups: Int

    public init(
        _ inputChannels: Int, _ outputChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
        padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true,
        generator: Generator? = nil
    ) throws {
        guard groups > 0, inputChannels % groups == 0, outputChannels % groups == 0 else {
            throw ModuleError.invalidConfiguration(
                "channels \(inputChannels)→\(outputChannels) are not divisible by \(groups) groups")
        }
        let fanIn = inputChannels / groups * kernelSize.0 * kernelSize.1
        weight = try Initialization.fanInUniform(
            [outputChannels, inputChannels / groups, kernelSize.0, kernelSize.1], fanIn: fanIn, generator: generator)
        self.bias = bias ? try Initialization.fanInUniform([outputChannels], fanIn: fanIn, generator: generator) : nil
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
    }

    /// A square kernel with the same stride and padding in both directions.
    public convenience init(
        _ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        groups: Int = 1, bias: Bool = true, generator: Generator? = nil
    ) throws {
        try self.init(
            inputChannels, outputChannels, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
            padding: (padding, padding), groups: groups, bias: bias, generator: generator)
    }

    /// - Parameter input: [N, inputChannels, H, W]
    /// - Returns: [N, outputChannels, H', W']
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try Functional.conv2d(
            input, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}
