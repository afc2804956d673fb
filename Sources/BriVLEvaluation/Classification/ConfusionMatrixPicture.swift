import Foundation

/// The confusion matrix as an SVG heat map: rows are true classes, columns predicted ones, each cell shaded by the
/// fraction of its row and labelled with its count.
public enum ConfusionMatrixPicture {
    public static func svg(confusion: [[Int]], classNames: [String], title: String) -> String {
        let classes = confusion.count
        let cell = classes > 30 ? 14 : 36
        let margin = 140
        let side = margin + classes * cell + 20
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(side)" height="\(side + 30)" \
            font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(side / 2)" y="18" text-anchor="middle" font-size="14">\(escape(title))</text>
            <text x="\(margin + classes * cell / 2)" y="\(side + 22)" text-anchor="middle">predicted</text>

            """
        for (row, counts) in confusion.enumerated() {
            let total = max(1, counts.reduce(0, +))
            let y = margin + row * cell
            svg += "<text x=\"\(margin - 6)\" y=\"\(y + cell / 2 + 4)\" text-anchor=\"end\">"
                + "\(escape(name(row, classNames)))</text>\n"
            for (column, count) in counts.enumerated() {
                let fraction = Double(count) / Double(total)
                let x = margin + column * cell
                let shade = Int(255 - fraction * 200)
                let colour = row == column ? "rgb(\(shade),\(shade),255)" : "rgb(255,\(shade),\(shade))"
                svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"\(colour)\" "
                    + "stroke=\"#ddd\"/>\n"
                if cell >= 30, count > 0 {
                    svg += "<text x=\"\(x + cell / 2)\" y=\"\(y + cell / 2 + 4)\" text-anchor=\"middle\">\(count)</text>\n"
                }
            }
        }
        for column in 0..<classes {
            let x = margin + column * cell + cell / 2
            svg += "<text transform=\"translate(\(x + 4),\(margin - 6)) rotate(-60)\">"
                + "\(escape(name(column, classNames)))</text>\n"
        }
        return svg + "</svg>\n"
    }

    private static func name(_ index: Int, _ names: [String]) -> String {
        index < names.count ? names[index] : String(index)
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
