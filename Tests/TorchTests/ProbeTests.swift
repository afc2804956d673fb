import Testing
import Torch

@Test func probe() throws {
    let input = try uniformInput([2, 2, 4, 5], seed: 67)
    let grid = try GradientTests.samplingGrid(batch: 2, outputHeight: 3, outputWidth: 2, height: 4, width: 5, alignCorners: false, seed: 68)
    print("PROBE grid", grid)
    let r = try gradientCheckReport([input, grid]) { try Functional.gridSample($0[0], grid: $0[1]) }
    print("PROBE gridSample", r.checked, r.worst!.ratio, r.worst!.analytic, r.worst!.numerical)
    let g2 = try GradientTests.samplingGrid(batch: 1, outputHeight: 3, outputWidth: 3, height: 4, width: 5, alignCorners: false, margin: 1, seed: 71)
    print("PROBE grid2", g2)
    let x = try uniformInput([1, 2, 5, 6], seed: 74)
    let r2 = try gradientCheckReport([x]) { try Functional.interpolate($0[0], size: (3, 4), mode: .bicubic, antialias: true) }
    print("PROBE bicubic aa", r2.checked, r2.worst!.ratio)
    let r3 = try gradientCheckReport([x]) { try Functional.interpolate($0[0], size: (3, 4), mode: .bicubic, antialias: true).detach() * $0[0].sum() }
    print("PROBE bicubic aa broken", r3.checked, r3.worst!.ratio)
    let q = try uniformInput([2, 3, 4], seed: 109)
    print("PROBE causal", try Functional.scaledDotProductAttention(query: q, key: q, value: q, causal: true))
}
