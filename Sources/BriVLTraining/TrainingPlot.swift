import BriVLInference
import Foundation

/// Draws a run's curves — loss, temperature, validation recall — as one SVG file with three panels.
public enum TrainingPlot {
    public struct Series {
        public var title: String
        public var points: [(x: Double, y: Double)]
        public var color: String
    }

    /// The SVG document for a run's records.
    public static func svg(steps: [StepRecord], validations: [ValidationRecord]) -> String {
        let panels: [[Series]] = [
            [Series(title: "loss", points: steps.map { (Double($0.step), $0.loss) }, color: "#1f77b4")],
            [Series(title: "temperature τ", points: steps.map { (Double($0.step), $0.temperature) }, color: "#d62728")],
            [
                Series(
                    title: "validation R@1 image→text",
                    points: validations.map { (Double($0.step), $0.imageToTextRecall[1] ?? 0) }, color: "#2ca02c"),
                Series(
                    title: "validation R@1 text→image",
                    points: validations.map { (Double($0.step), $0.textToImageRecall[1] ?? 0) }, color: "#ff7f0e"),
                Series(
                    title: "zero-shot top-1",
                    points: validations.compactMap { v in v.zeroShotAccuracy.map { (Double(v.step), $0) } },
                    color: "#9467bd"),
            ],
        ]
        let panelWidth = 360.0
        let panelHeight = 240.0
        let width = panelWidth * Double(panels.count)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(panelHeight))" \
            font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="white"/>

            """
        for (index, series) in panels.enumerated() {
            svg += panel(series, x: Double(index) * panelWidth, width: panelWidth, height: panelHeight)
        }
        svg += "</svg>\n"
        return svg
    }

    /// Writes the SVG atomically.
    public static func write(steps: [StepRecord], validations: [ValidationRecord], to path: String) throws {
        try Data(svg(steps: steps, validations: validations).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    private static func panel(_ series: [Series], x originX: Double, width: Double, height: Double) -> String {
        let left = originX + 50, right = originX + width - 12, top = 14.0 * Double(series.count) + 16, bottom = height - 28
        let all = series.flatMap(\.points)
        var out = "<g>\n"
        out += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(right - left))\" height=\"\(f(bottom - top))\" "
            + "fill=\"none\" stroke=\"#888\"/>\n"
        for (index, s) in series.enumerated() {
            out += "<text x=\"\(f(left))\" y=\"\(f(12 + 14 * Double(index)))\" fill=\"\(s.color)\">\(escape(s.title))</text>\n"
        }
        guard let minX = all.map(\.x).min(), let maxX = all.map(\.x).max(), let minYValue = all.map(\.y).min(),
            let maxYValue = all.map(\.y).max()
        else {
            return out + "<text x=\"\(f(left + 8))\" y=\"\(f((top + bottom) / 2))\" fill=\"#888\">no data yet</text>\n</g>\n"
        }
        let spanX = Swift.max(maxX - minX, 1)
        let padding = Swift.max((maxYValue - minYValue) * 0.05, 1e-6)
        let minY = minYValue - padding, maxY = maxYValue + padding
        func px(_ value: Double) -> Double { left + (value - minX) / spanX * (right - left) }
        func py(_ value: Double) -> Double { bottom - (value - minY) / (maxY - minY) * (bottom - top) }
        for tick in 0...4 {
            let value = minY + (maxY - minY) * Double(tick) / 4
            out += "<text x=\"\(f(left - 4))\" y=\"\(f(py(value) + 4))\" text-anchor=\"end\">\(label(value))</text>\n"
        }
        out += "<text x=\"\(f(left))\" y=\"\(f(bottom + 16))\">\(label(minX))</text>\n"
        out += "<text x=\"\(f(right))\" y=\"\(f(bottom + 16))\" text-anchor=\"end\">step \(label(maxX))</text>\n"
        for s in series where !s.points.isEmpty {
            let path = s.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.5\" points=\"\(path)\"/>\n"
            if s.points.count == 1, let point = s.points.first {
                out += "<circle cx=\"\(f(px(point.x)))\" cy=\"\(f(py(point.y)))\" r=\"3\" fill=\"\(s.color)\"/>\n"
            }
        }
        return out + "</g>\n"
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    private static func label(_ value: Double) -> String {
        abs(value) >= 100 || value == value.rounded() && abs(value) >= 1
            ? String(format: "%.0f", value) : String(format: "%.3g", value)
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}
