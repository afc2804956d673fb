// swift-tools-version:6.0
import Foundation
import PackageDescription

// The engine is libtorch. By default we build against the system libtorch of Debian/Ubuntu
// (`libtorch-dev`, C++17). Setting TORCH_ROOT to a libtorch ≥ 2.0 folder (PyPI torch's `torch/`,
// the official zip, a CUDA build) builds against that one instead (C++20, its include/ and lib/, rpath).
let environment = ProcessInfo.processInfo.environment
let torchRoot = environment["TORCH_ROOT"].flatMap { $0.isEmpty ? nil : $0 }

struct EngineFlags {
    var compile: [String]
    var link: [String]
}

func engineFlags() -> EngineFlags {
    guard let root = torchRoot else {
        let include = "/usr/include/torch/csrc/api/include"
        return EngineFlags(
            compile: ["-I", include, "-Wno-deprecated-declarations"] + distributedDefines(includeRoot: "/usr/include", cuda: false),
            link: ["-ltorch_cpu", "-lc10"])
    }
    let lib = "\(root)/lib"
    // CUDA builds register their kernels from libtorch_cuda/libc10_cuda at load time, so they must be
    // linked even though no symbol of theirs is referenced.
    var cudaLibraries: [String] = []
    for name in ["torch_cuda", "c10_cuda"] where FileManager.default.fileExists(atPath: "\(lib)/lib\(name).so") {
        cudaLibraries.append("-l\(name)")
    }
    let abi = environment["TORCH_CXX11_ABI"] ?? "1"
    return EngineFlags(
        compile: [
            "-I", "\(root)/include", "-I", "\(root)/include/torch/csrc/api/include",
            "-D_GLIBCXX_USE_CXX11_ABI=\(abi)", "-Wno-deprecated-declarations",
        ] + distributedDefines(includeRoot: "\(root)/include", cuda: !cudaLibraries.isEmpty),
        link: ["-L", lib, "-Xlinker", "-rpath", "-Xlinker", lib, "-Xlinker", "--no-as-needed"]
            + cudaLibraries + ["-ltorch", "-ltorch_cpu", "-lc10", "-Xlinker", "--as-needed"])
}

/// c10d's Gloo and NCCL headers are guarded by the macros libtorch itself was built with; we set them when the
/// backend's headers are there (Debian ships Gloo's in libgloo-dev) so the shim's process groups compile.
func distributedDefines(includeRoot: String, cuda: Bool) -> [String] {
    var defines: [String] = []
    if FileManager.default.fileExists(atPath: "\(includeRoot)/gloo/context.h") { defines.append("-DUSE_C10D_GLOO") }
    if cuda, FileManager.default.fileExists(atPath: "\(includeRoot)/torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp") {
        defines.append("-DUSE_C10D_NCCL")
    }
    return defines
}

let engine = engineFlags()

let package = Package(
    name: "BriVL",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "brivl", targets: ["brivl"]),
        .library(name: "Torch", targets: ["Torch"]),
        .library(name: "TorchNN", targets: ["TorchNN"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Flat C API over libtorch: opaque handles, every entry point catches C++ exceptions. Its `ctorch_bench.h`
        // part holds the benchmarks' reference workloads, written as single C++ calls, to measure the binding's cost.
        .target(
            name: "CTorch",
            cxxSettings: [.unsafeFlags(engine.compile)],
            linkerSettings: [.unsafeFlags(engine.link)]),
        .target(name: "Torch", dependencies: ["CTorch"]),
        .target(name: "TorchNN", dependencies: ["Torch"]),
        // Image codecs: system libraries found with pkg-config, and a C layer that keeps their longjmp error
        // handling away from Swift.
        .systemLibrary(
            name: "CJPEG", path: "Sources/SystemLibraries/CJPEG", pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(
            name: "CPNG", path: "Sources/SystemLibraries/CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CWebP", path: "Sources/SystemLibraries/CWebP", pkgConfig: "libwebp",
            providers: [.apt(["libwebp-dev"])]),
        .target(name: "CImageCodecs", dependencies: ["CJPEG", "CPNG", "CWebP"]),
        .target(name: "Imaging", dependencies: ["CImageCodecs", "Torch"]),
        .target(name: "Tokenization", dependencies: ["GzipFiles"]),
        // A 128-bit content hash that is the same in every process: dedup keys of cleaning, checkpoint checksums.
        .target(name: "ContentHashing"),
        // gzip, for datasets shipped as .gz files (Fashion-MNIST's idx files).
        .systemLibrary(
            name: "CZlib", path: "Sources/SystemLibraries/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "BriVLData", dependencies: ["ContentHashing", "Imaging", "Tokenization", "Torch"]),
        // The demo corpora built from Fashion-MNIST: captioned scenes (train, test, zero-shot splits) and VQA.
        .target(name: "GzipFiles", dependencies: ["CZlib"]),
        .target(name: "FashionCorpora", dependencies: ["BriVLData", "GzipFiles", "Imaging"]),
        // The model: towers, pooling, presets, the learning objective.
        .target(name: "BriVL", dependencies: ["Torch", "TorchNN", "Tokenization"]),
        // Using a model once it exists: checkpoints, model sources, batched embedding in evaluation mode, zero-shot
        // classification and retrieval recall. Everything downstream of training depends on this, not on training.
        .target(
            name: "BriVLInference",
            dependencies: ["BriVL", "ContentHashing", "Imaging", "Tokenization", "Torch", "TorchNN"]),
        // Released weights of other projects (Chinese-CLIP) turned into run folders: key mapping, shape checks and
        // a model card. Reads torch.save files through Torch's own reader.
        .target(
            name: "BriVLImport",
            dependencies: ["BriVL", "BriVLInference", "ContentHashing", "Imaging", "Tokenization", "Torch", "TorchNN"]),
        // Pretraining: the training loop, its configuration, periodic validation and metrics.
        .target(
            name: "BriVLTraining",
            dependencies: ["BriVL", "BriVLData", "BriVLInference", "Imaging", "Tokenization", "Torch", "TorchNN"]),
        // Downstream evaluation: zero-shot image and text classification, retrieval, VQA as contrastive multiple
        // choice, linear probes; every evaluation writes a JSON report and a Markdown table. Also the model-backed
        // relevance filter of cleaning.
        .target(
            name: "BriVLEvaluation",
            dependencies: ["BriVL", "BriVLData", "BriVLInference", "Imaging", "Tokenization", "Torch", "TorchNN"]),
        // Visual explanation: concept images and unit visualisations optimised through the frozen towers, story
        // sequences, and image/token saliency for a pair.
        .target(
            name: "BriVLInterpret",
            dependencies: ["BriVL", "BriVLInference", "Imaging", "Tokenization", "Torch", "TorchNN"]),
        // Flat C API over FAISS (Debian `libfaiss-dev`): opaque index handles, every entry point catches C++ exceptions.
        // Debian ships FAISS as a static archive, so its own dependencies (OpenMP, BLAS, LAPACK) are linked here.
        .target(
            name: "CFaiss",
            linkerSettings: [
                .linkedLibrary("faiss"), .unsafeFlags(["-Xlinker", "-l:libgomp.so.1"]), .linkedLibrary("blas"),
                .linkedLibrary("lapack"),
            ]),
        // Cross-modal search: the vector store (FAISS behind a protocol), SQLite metadata through GRDB, the
        // incremental indexer writing crash-safe generations, and the searcher (text→image, image→image, tagging).
        .target(
            name: "BriVLSearch",
            dependencies: [
                "BriVLEvaluation", "BriVLInference", "CFaiss", "Imaging", "Torch",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        // The HTTP service over the searcher (Hummingbird 2): JSON API, dynamic batching, metrics and the web page.
        .target(
            name: "BriVLServer",
            dependencies: [
                "BriVLEvaluation", "BriVLSearch", "Imaging",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        // Benchmarks printing machine-readable lines; run through `brivl bench`.
        .target(
            name: "Benchmarks",
            dependencies: [
                "BriVL", "BriVLData", "BriVLInference", "BriVLSearch", "BriVLServer", "BriVLTraining", "CTorch", "Imaging",
                "Torch", "TorchNN",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]),
        .executableTarget(
            name: "brivl",
            dependencies: [
                "Benchmarks", "BriVL", "BriVLData", "BriVLEvaluation", "BriVLImport", "BriVLInference", "BriVLInterpret",
                "BriVLSearch", "BriVLServer", "BriVLTraining", "FashionCorpora", "Imaging", "Torch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]),
        // Finite-difference gradient checking shared by the test targets.
        .target(name: "GradientChecking", dependencies: ["Torch"], path: "Tests/GradientChecking"),
        // The tiny model configuration the training, evaluation and explanation tests share.
        .target(name: "ModelTestSupport", dependencies: ["BriVL"], path: "Tests/ModelTestSupport"),
        // Runs the ranks of a Gloo group as threads of one test process.
        .target(name: "DistributedTestSupport", dependencies: ["Torch"], path: "Tests/DistributedTestSupport"),
        .testTarget(name: "TorchTests", dependencies: ["Torch", "GradientChecking", "DistributedTestSupport", "FileTestSupport"]),
        .testTarget(
            name: "TorchNNTests", dependencies: ["TorchNN", "GradientChecking"], resources: [.copy("Resources")]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization", "FileTestSupport"]),
        // Temporary folders and child processes for the data tests.
        .target(name: "FileTestSupport", path: "Tests/FileTestSupport"),
        .testTarget(name: "BriVLDataTests", dependencies: ["BriVLData", "Imaging", "FileTestSupport"]),
        .testTarget(name: "FashionCorporaTests", dependencies: ["FashionCorpora", "BriVLData", "Imaging", "FileTestSupport"]),
        .testTarget(name: "BriVLTests", dependencies: ["BriVL", "Tokenization", "GradientChecking", "FileTestSupport"]),
        .testTarget(
            name: "BriVLImportTests",
            dependencies: [
                "BriVLImport", "BriVLInference", "BriVL", "ContentHashing", "Imaging", "Tokenization", "Torch", "TorchNN",
                "FileTestSupport",
            ]),
        .testTarget(
            name: "BriVLInferenceTests",
            dependencies: ["BriVLInference", "BriVL", "Imaging", "Tokenization", "Torch", "TorchNN", "ModelTestSupport"]),
        .testTarget(
            name: "BriVLTrainingTests",
            dependencies: [
                "BriVLTraining", "BriVLInference", "BriVLEvaluation", "BriVL", "BriVLData", "TorchNN", "ModelTestSupport",
                "DistributedTestSupport",
            ]),
        .testTarget(
            name: "BriVLEvaluationTests",
            dependencies: [
                "BriVLEvaluation", "BriVLInference", "BriVLTraining", "BriVL", "BriVLData", "FashionCorpora", "TorchNN",
                "GradientChecking", "ModelTestSupport",
            ]),
        .testTarget(
            name: "BriVLInterpretTests",
            dependencies: ["BriVLInterpret", "BriVL", "Torch", "TorchNN", "Imaging", "Tokenization", "ModelTestSupport"]),
        .testTarget(
            name: "BriVLSearchTests",
            dependencies: [
                "BriVLSearch", "BriVLInference", "BriVLTraining", "BriVLData", "BriVL", "Torch", "Imaging", "Tokenization",
                "ModelTestSupport",
            ]),
        .testTarget(
            name: "BriVLServerTests",
            dependencies: [
                "BriVLServer", "BriVLSearch", "BriVLInference", "BriVLTraining", "BriVL", "Imaging", "Tokenization",
                "ModelTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
    ],
    cxxLanguageStandard: torchRoot == nil ? .cxx17 : .cxx20
)
