import Foundation

/// Number formatting for reports: fixed, locale-independent, deterministic.
public enum Format {
  /// 1234567 -> "1.23 M", with the unit after.
  public static func si(_ value: Double, _ unit: String = "", digits: Int = 3) -> String {
    let prefixes: [(Double, String)] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
    for (scale, prefix) in prefixes where abs(value) >= scale {
      return "\(significant(value / scale, digits)) \(prefix)\(unit)"
    }
    return "\(significant(value, digits)) \(unit)".trimmingCharacters(in: .whitespaces)
  }

  /// `value` with `digits` significant digits, no exponent.
  public static func significant(_ value: Double, _ digits: Int) -> String {
    guard value != 0, value.isFinite else { return value.isFinite ? "0" : "\(value)" }
    let magnitude = Int(floor(log10(abs(value)))) + 1
    let decimals = max(0, digits - magnitude)
    return String(format: "%.\(decimals)f", value)
  }

  public static func seconds(_ value: Double) -> String {
    value < 1 ? "\(significant(value * 1000, 3)) ms" : "\(significant(value, 3)) s"
  }

  public static func percent(_ fraction: Double) -> String { String(format: "%.1f%%", fraction * 100) }

  /// A plain text table with a header row and right-aligned numeric columns.
  public static func table(_ header: [String], _ rows: [[String]]) -> String {
    let widths = header.indices.map { c in ([header[c]] + rows.map { $0[c] }).map(\.count).max() ?? 0 }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { c, cell in
        c == 0 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
          : String(repeating: " ", count: widths[c] - cell.count) + cell
      }.joined(separator: "  ")
    }
    return ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line))
      .joined(separator: "\n")
  }
}

/// Wall-clock timing for benchmarks.
public struct Stopwatch {
  private let start = DispatchTime.now().uptimeNanoseconds
  public init() {}
  public var seconds: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}
