import Foundation

/// Scatter plots of a sweep as SVG: one point a design (circles for 2-bit planes, squares for
/// base 3, labelled with lanes, packing, a FIFO other than 256 KiB and
/// the streams as xS), the Pareto front joined by a line, and the points
/// that do not fit the device in grey.
public enum SweepPlot {
  public struct Axis: Sendable {
    public let label: String
    public let value: @Sendable (SweepResult) -> Double

    public init(_ label: String, _ value: @escaping @Sendable (SweepResult) -> Double) {
      self.label = label
      self.value = value
    }
  }

  public static let tokensPerSecond = Axis("tokens/s (measured cycles at the profile's clock)") { $0.tokensPerSecond }
  /// LUTs, or ALMs where the results come from the Intel flow.
  public static func logic(_ results: [SweepResult]) -> Axis {
    let flow = results.first?.flow ?? ""
    return Axis("\(flow.hasPrefix("synth_intel") ? "ALMs" : "LUTs") (Yosys \(flow))") { Double($0.logic) }
  }
  public static let joulesPerToken = Axis("J/token (estimate)") { $0.joulesPerToken }

  /// Tokens/s against LUTs (or ALMs), with `SweepSummary.throughputFront`.
  public static func throughput(_ results: [SweepResult], title: String) -> String {
    throughput(results, front: SweepSummary.throughputFront(results), title: title)
  }

  public static func throughput(_ results: [SweepResult], front: Set<Int>, title: String) -> String {
    svg(results, x: logic(results), y: tokensPerSecond, front: front, title: title)
  }

  /// J/token against tokens/s, with `SweepSummary.energyFront`.
  public static func energy(_ results: [SweepResult], title: String) -> String {
    energy(results, front: SweepSummary.energyFront(results), title: title)
  }

  public static func energy(_ results: [SweepResult], front: Set<Int>, title: String) -> String {
    svg(results, x: tokensPerSecond, y: joulesPerToken, front: front, title: title)
  }

  /// Ticks at 1, 2 or 5 times a power of ten covering `low ... high`.
  static func ticks(_ low: Double, _ high: Double) -> [Double] {
    let span = max(high - low, abs(high) * 1e-3, 1e-12)
    let raw = span / 5
    let magnitude = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    let first = floor(low / step) * step
    let last = ceil(high / step) * step
    return stride(from: first, through: last + step / 2, by: step).map { $0 }
  }

  static func label(_ v: Double) -> String {
    if v >= 1e6 { return SweepSummary.number(v / 1e6) + "M" }
    if v >= 1e4 { return SweepSummary.number(v / 1e3) + "k" }
    return SweepSummary.number((v * 1e4).rounded() / 1e4)
  }

  static func escaped(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;")
  }

  public static func svg(_ results: [SweepResult], x: Axis, y: Axis, front: Set<Int>, title: String) -> String {
    let width = 760.0, height = 500.0
    let left = 90.0, right = 190.0, top = 56.0, bottom = 64.0
    let plotWidth = width - left - right, plotHeight = height - top - bottom
    func f(_ v: Double) -> String { String(format: "%.1f", v) }
    let xs = results.map(x.value), ys = results.map(y.value)
    let xTicks = ticks(xs.min() ?? 0, xs.max() ?? 1), yTicks = ticks(ys.min() ?? 0, ys.max() ?? 1)
    let x0 = xTicks.first!, x1 = xTicks.last!, y0 = yTicks.first!, y1 = yTicks.last!
    func px(_ v: Double) -> Double { left + (v - x0) / max(x1 - x0, 1e-12) * plotWidth }
    func py(_ v: Double) -> Double { top + plotHeight - (v - y0) / max(y1 - y0, 1e-12) * plotHeight }
    var out = [
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"sans-serif\" font-size=\"12\">",
      "  <rect x=\"0\" y=\"0\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"#ffffff\"/>",
      "  <text x=\"10\" y=\"22\" font-size=\"14\" font-weight=\"bold\">\(escaped(title))</text>",
      "  <rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#000000\"/>",
    ]
    for t in xTicks {
      out.append("  <line x1=\"\(f(px(t)))\" y1=\"\(f(top))\" x2=\"\(f(px(t)))\" y2=\"\(f(top + plotHeight))\" stroke=\"#e0e0e0\"/>")
      out.append("  <text x=\"\(f(px(t)))\" y=\"\(f(top + plotHeight + 18))\" text-anchor=\"middle\">\(label(t))</text>")
    }
    for t in yTicks {
      out.append("  <line x1=\"\(f(left))\" y1=\"\(f(py(t)))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(py(t)))\" stroke=\"#e0e0e0\"/>")
      out.append("  <text x=\"\(f(left - 8))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(label(t))</text>")
    }
    out.append("  <text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 20))\" text-anchor=\"middle\">\(escaped(x.label))</text>")
    out.append(
      "  <text x=\"20\" y=\"\(f(top + plotHeight / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 20 \(f(top + plotHeight / 2)))\">\(escaped(y.label))</text>")
    // The front, left to right.
    let frontPoints = front.sorted().map { (px(xs[$0]), py(ys[$0])) }.sorted { $0.0 < $1.0 }
    if frontPoints.count > 1 {
      let path = frontPoints.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
      out.append("  <polyline points=\"\(path)\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"5,3\"/>")
    }
    for (i, r) in results.enumerated() {
      let cx = px(xs[i]), cy = py(ys[i])
      let color = !r.fits ? "#b0b0b0" : front.contains(i) ? "#d62728" : "#1f77b4"
      switch r.point.packing {
      case .planes: out.append("  <circle cx=\"\(f(cx))\" cy=\"\(f(cy))\" r=\"5\" fill=\"\(color)\"/>")
      case .base3: out.append("  <rect x=\"\(f(cx - 5))\" y=\"\(f(cy - 5))\" width=\"10\" height=\"10\" fill=\"\(color)\"/>")
      }
      let text = "\(r.point.lanes) \(r.point.packing)" + (r.point.fifoKiB == 256 ? "" : " \(r.point.fifoKiB)K")
        + (r.point.streams == 1 ? "" : " x\(r.point.streams)")
      out.append("  <text x=\"\(f(cx + 8))\" y=\"\(f(cy - 6))\" fill=\"\(r.fits ? "#333333" : "#999999")\">\(escaped(text))</text>")
    }
    // Legend.
    let lx = left + plotWidth + 16
    let legend: [(String, String, Bool)] = [
      ("#d62728", "Pareto front", false), ("#1f77b4", "fits the device", false), ("#b0b0b0", "does not fit", false),
      ("#555555", "2-bit planes", false), ("#555555", "base 3 (1.6 bits)", true),
    ]
    for (k, entry) in legend.enumerated() {
      let ly = top + 14 + 22 * Double(k)
      if entry.2 {
        out.append("  <rect x=\"\(f(lx - 5))\" y=\"\(f(ly - 5))\" width=\"10\" height=\"10\" fill=\"\(entry.0)\"/>")
      } else {
        out.append("  <circle cx=\"\(f(lx))\" cy=\"\(f(ly))\" r=\"5\" fill=\"\(entry.0)\"/>")
      }
      out.append("  <text x=\"\(f(lx + 12))\" y=\"\(f(ly + 4))\">\(escaped(entry.1))</text>")
    }
    let notes = results.contains { $0.extrapolationBound != nil }
      ? ["cycles: first layers simulated,", "the rest extrapolated", "watts, J/token: estimates"] : ["watts, J/token: estimates"]
    for (k, note) in notes.enumerated() {
      out.append("  <text x=\"\(f(lx - 5))\" y=\"\(f(top + 14 + 22 * Double(legend.count) + 8 + 16 * Double(k)))\" fill=\"#555555\">\(escaped(note))</text>")
    }
    out.append("</svg>")
    return out.joined(separator: "\n") + "\n"
  }
}
