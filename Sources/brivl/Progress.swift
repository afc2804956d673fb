import Foundation

/// A progress line on standard error: count, total, rate and ETA. On a terminal it redraws in place; otherwise
/// (logs, CI) it prints a line every few seconds, so long jobs always show that they are alive.
final class ProgressBar {
    private let label: String
    private var total: Int?
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let interactive = isatty(STDERR_FILENO) != 0
    private var finished = false

    init(_ label: String, total: Int? = nil) {
        self.label = label
        self.total = total
    }

    /// Reports `done` units of work (and a new total when it became known).
    func update(_ done: Int, total: Int? = nil, detail: String = "") {
        if let total { self.total = total }
        let now = Date()
        let interval = interactive ? 0.2 : 5.0
        guard now.timeIntervalSince(lastDraw) >= interval else { return }
        lastDraw = now
        draw(done, detail: detail, final: false)
    }

    /// Prints the final line.
    func finish(_ done: Int, detail: String = "") {
        guard !finished else { return }
        finished = true
        draw(done, detail: detail, final: true)
    }

    private func draw(_ done: Int, detail: String, final: Bool) {
        let elapsed = Date().timeIntervalSince(start)
        // Under half a second the rate is mostly noise (the first batch over a few microseconds reads as millions/s).
        let rate = elapsed >= 0.5 ? Double(done) / elapsed : 0
        var text = "\(label): \(done)"
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let width = 24
            let filled = Int(fraction * Double(width))
            text = "\(label) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] "
                + "\(done)/\(total) \(Int(fraction * 100))%"
            if !final && rate > 0 { text += " ETA \(Self.duration(Double(total - done) / rate))" }
        }
        if rate > 0 { text += String(format: " %.1f/s", rate) }
        text += " " + Self.duration(elapsed)
        if !detail.isEmpty { text += " " + detail }
        let line = interactive ? "\r\u{1B}[K" + text + (final ? "\n" : "") : text + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let total = Int(seconds.rounded())
        return total >= 3600
            ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
            : String(format: "%d:%02d", total / 60, total % 60)
    }
}
