import Foundation

/// Renders a `PowerEstimate`: text lines for `hwgen simulate`, JSON, a
/// Markdown summary and an SVG chart of where the power goes. Every output is
/// labelled ESTIMATE and is the same bytes for the same estimate.
public enum PowerReport {
  /// The categories in the order every rendering lists them.
  static let categories: [PowerCategory] = [.staticPower, .logic, .onChipMemory, .multiply, .offChipMemory]

  /// The lines `hwgen simulate` prints.
  public static func lines(_ e: PowerEstimate) -> [String] {
    let parts = categories.map { "\($0.rawValue) \(watts(e.watts($0)))" }.joined(separator: ", ")
    let board: String, boardEnergy: String
    if let b = e.board {
      board = "board (ESTIMATE, whole card): \(watts(b.totalWatts)) = measured idle \(watts(b.idleWatts)) + this design's dynamic \(watts(b.dynamicWatts)); idle: \(b.idleSource)"
      boardEnergy = "board \(joules(b.joulesPerToken))/token, \(Format.significant(b.tokensPerJoule, 3)) tokens/J"
    } else {
      board = "board (whole card): unavailable: \(e.boardUnavailable ?? "no measured idle power")"
      boardEnergy = "board unavailable"
    }
    return [
      "power (ESTIMATE, \(e.device) at \(mhz(e.clockMHz)) MHz): chip (FPGA and its DRAM) \(watts(e.totalWatts)) = \(parts)",
      board,
      "energy (ESTIMATE): chip \(joules(e.joulesPerToken))/token, \(Format.significant(e.tokensPerJoule, 3)) tokens/J; \(boardEnergy)",
      "method: \(e.method)",
    ] + (e.board.map { ["board method: \($0.method)"] } ?? [])
  }

  /// The estimate as JSON (sorted keys, so the same estimate gives the same bytes).
  public static func json(_ e: PowerEstimate) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(e), as: UTF8.self) + "\n"
  }

  /// A Markdown summary; `chart` names the SVG file to embed, when written next to it.
  public static func markdown(_ e: PowerEstimate, title: String, chart: String? = nil) -> String {
    var out = ["# \(title)", ""]
    let method = e.method.hasPrefix("ESTIMATE: ") ? String(e.method.dropFirst("ESTIMATE: ".count)) : e.method
    out.append("**ESTIMATE**, not a measurement. Method: \(method).")
    out.append("")
    out.append("Device \(e.device) at \(mhz(e.clockMHz)) MHz, \(e.tokens) token\(e.tokens == 1 ? "" : "s"), \(seconds(e.secondsPerToken)) per token.")
    out.append("")
    out.append("| | watts | share |")
    out.append("| --- | ---: | ---: |")
    for category in categories {
      out.append("| \(category.rawValue) | \(Format.significant(e.watts(category), 3)) | \(share(e.watts(category), e.totalWatts)) |")
    }
    out.append("| **total** | **\(Format.significant(e.totalWatts, 3))** | 100.0% |")
    out.append("")
    out.append("Energy per token: \(joules(e.joulesPerToken)); \(Format.significant(e.tokensPerJoule, 3)) tokens per joule.")
    out.append("")
    out.append("## Chip and board")
    out.append("")
    out.append("| | chip (FPGA and its DRAM) | board (whole card) |")
    out.append("| --- | ---: | ---: |")
    if let b = e.board {
      out.append("| watts | \(watts(e.totalWatts)) | \(watts(b.totalWatts)) |")
      out.append("| energy per token | \(joules(e.joulesPerToken)) | \(joules(b.joulesPerToken)) |")
      out.append("| tokens per joule | \(Format.significant(e.tokensPerJoule, 3)) | \(Format.significant(b.tokensPerJoule, 3)) |")
      out.append("")
      let method = b.method.hasPrefix("ESTIMATE: ") ? String(b.method.dropFirst("ESTIMATE: ".count)) : b.method
      out.append("Board: \(method). Idle: \(watts(b.idleWatts)), \(b.idleSource.replacingOccurrences(of: "|", with: "\\|"))")
    } else {
      out.append("| watts | \(watts(e.totalWatts)) | unavailable |")
      out.append("| energy per token | \(joules(e.joulesPerToken)) | unavailable |")
      out.append("")
      out.append("Board: unavailable: \(e.boardUnavailable ?? "no measured idle power").")
    }
    out.append("")
    if let chart {
      out.append("![where the power goes](\(chart))")
      out.append("")
    }
    out.append("## Components")
    out.append("")
    out.append("| component | category | watts |")
    out.append("| --- | --- | ---: |")
    for c in e.components {
      out.append("| \(c.name) | \(c.category.rawValue) | \(Format.significant(c.watts, 3)) |")
    }
    out.append("")
    out.append("Resources charged: \(e.resources.luts) LUTs, \(e.resources.flipFlops) flip-flops, \(Format.significant(e.resources.blockRAMBlocks, 4)) block RAMs, \(e.resources.dsps) DSPs.")
    out.append("")
    out.append("## Coefficients and their sources")
    out.append("")
    out.append("| coefficient | value | source |")
    out.append("| --- | ---: | --- |")
    for s in e.sources {
      let text = (s.assumption ? "ASSUMPTION. " : "") + s.source.replacingOccurrences(of: "|", with: "\\|")
      out.append("| \(s.coefficient) | \(Format.significant(s.value, 4)) | \(text) |")
    }
    return out.joined(separator: "\n") + "\n"
  }

  /// A hand-written SVG: one stacked bar of the total and one bar per
  /// category, watts labelled. Coordinates are printed with fixed decimals,
  /// so the bytes depend only on the estimate.
  public static func svg(_ e: PowerEstimate) -> String {
    let width = 640.0, barX = 150.0, barWidth = 400.0, rowHeight = 28.0
    let colors = ["#7f7f7f", "#1f77b4", "#2ca02c", "#9467bd", "#d62728"]
    let rows = categories.count
    let height = 80.0 + rowHeight * Double(rows + 1) + 20
    let scale = e.totalWatts > 0 ? barWidth / e.totalWatts : 0
    func f(_ v: Double) -> String { String(format: "%.1f", v) }
    func text(_ s: String) -> String {
      s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;")
    }
    var out = [
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"sans-serif\" font-size=\"12\">",
      "  <rect x=\"0\" y=\"0\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"#ffffff\"/>",
      "  <text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">\(text("ESTIMATE: \(watts(e.totalWatts)) on \(e.device) at \(mhz(e.clockMHz)) MHz, \(joules(e.joulesPerToken))/token"))</text>",
      "  <text x=\"10\" y=\"40\">where the power goes (see docs/power.md for the method and its sources)</text>",
    ]
    // The total as one stacked bar.
    var x = barX
    let totalY = 56.0
    out.append("  <text x=\"10\" y=\"\(f(totalY + 16))\">total</text>")
    for (i, category) in categories.enumerated() {
      let w = e.watts(category) * scale
      out.append("  <rect x=\"\(f(x))\" y=\"\(f(totalY))\" width=\"\(f(w))\" height=\"20.0\" fill=\"\(colors[i])\"/>")
      x += w
    }
    out.append("  <text x=\"\(f(barX + barWidth + 8))\" y=\"\(f(totalY + 16))\">\(text(watts(e.totalWatts)))</text>")
    // One bar per category, on the same scale.
    for (i, category) in categories.enumerated() {
      let y = totalY + rowHeight * Double(i + 1) + 8
      let w = e.watts(category) * scale
      out.append("  <text x=\"10\" y=\"\(f(y + 16))\">\(text(category.rawValue))</text>")
      out.append("  <rect x=\"\(f(barX))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"20.0\" fill=\"\(colors[i])\"/>")
      out.append("  <text x=\"\(f(barX + w + 8))\" y=\"\(f(y + 16))\">\(text("\(watts(e.watts(category))) (\(share(e.watts(category), e.totalWatts)))"))</text>")
    }
    out.append("</svg>")
    return out.joined(separator: "\n") + "\n"
  }

  static func mhz(_ f: Double) -> String {
    f == f.rounded() && abs(f) < 1e9 ? "\(Int(f))" : Format.significant(f, 4)
  }

  static func watts(_ w: Double) -> String {
    w >= 1 || w == 0 ? "\(Format.significant(w, 3)) W" : "\(Format.significant(w * 1000, 3)) mW"
  }

  static func joules(_ j: Double) -> String {
    if j >= 1 { return "\(Format.significant(j, 3)) J" }
    if j >= 1e-3 { return "\(Format.significant(j * 1e3, 3)) mJ" }
    return "\(Format.significant(j * 1e6, 3)) uJ"
  }

  static func seconds(_ s: Double) -> String {
    s >= 1e-3 ? Format.seconds(s) : "\(Format.significant(s * 1e6, 3)) us"
  }

  static func share(_ part: Double, _ total: Double) -> String { Format.percent(total > 0 ? part / total : 0) }
}
