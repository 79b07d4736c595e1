import Foundation

/// The logits of a run against an external reference's (a PyTorch model fed
/// the same token ids), position by position: one row per token fed, prompt
/// positions included. Position `p`'s argmax is the token generated after
/// input `p`; from position `promptLength - 1` on these are the greedy steps.
public struct LogitComparison: Codable, Hashable, Sendable {
  public struct Position: Codable, Hashable, Sendable {
    public var position: Int
    /// ||ours - reference|| / ||reference||.
    public var relativeL2: Double
    /// Largest |ours - reference| over the vocabulary.
    public var maxAbsError: Double
    public var top1: Int
    public var referenceTop1: Int
    /// The reference's top-1 minus top-2 logit.
    public var referenceMargin: Double
    public var agrees: Bool { top1 == referenceTop1 }
  }

  public var positions: [Position]
  public var promptLength: Int
  /// Where the reference file came from (for the report).
  public var source: String

  public var agreements: Int { positions.filter(\.agrees).count }
  public var medianRelativeL2: Double {
    let sorted = positions.map(\.relativeL2).sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
  }
  public var maxRelativeL2: Double { positions.map(\.relativeL2).max() ?? 0 }
  public var maxAbsError: Double { positions.map(\.maxAbsError).max() ?? 0 }
  /// The greedy steps (positions from the prompt's last token on).
  public var steps: ArraySlice<Position> { positions[min(positions.count, max(0, promptLength - 1))...] }
  /// The first greedy step where the reference's argmax differs from ours:
  /// the generated texts agree before it.
  public var firstDivergence: Position? { steps.first { !$0.agrees } }

  /// Errors: one line each.
  public struct Mismatch: Error, CustomStringConvertible {
    public let description: String
  }

  /// `ours` and `reference` hold one row per position, each `vocabulary` wide.
  public init(ours: [[Float]], reference: [[Float]], promptLength: Int, source: String) throws {
    guard reference.count == ours.count else {
      throw Mismatch(description: "\(source) has \(reference.count) rows; the run computes \(ours.count) positions (one row per token fed, prompt included)")
    }
    if let width = ours.first?.count, let bad = reference.first(where: { $0.count != width }) {
      throw Mismatch(description: "\(source) rows hold \(bad.count) logits; the model's vocabulary is \(width)")
    }
    if let row = reference.firstIndex(where: { $0.contains { !$0.isFinite } }) {
      throw Mismatch(description: "\(source) row \(row) holds a NaN or infinite logit")
    }
    self.promptLength = promptLength
    self.source = source
    positions = zip(ours, reference).enumerated().map { p, rows in
      let (a, r) = rows
      var diff = 0.0, norm = 0.0, maxAbs = 0.0
      for (x, y) in zip(a, r) {
        let d = Double(x) - Double(y)
        diff += d * d
        norm += Double(y) * Double(y)
        maxAbs = max(maxAbs, abs(d))
      }
      let (first, second) = Self.topTwo(r)
      return Position(
        position: p, relativeL2: norm > 0 ? (diff / norm).squareRoot() : diff.squareRoot(), maxAbsError: maxAbs,
        top1: Self.topTwo(a).0, referenceTop1: first, referenceMargin: Double(r[first]) - Double(r[second]))
    }
  }

  /// Indices of the largest and second-largest entries, lowest index on ties
  /// (the accelerator's ARGMAX rule).
  static func topTwo(_ x: [Float]) -> (Int, Int) {
    var best = 0, second = x.count > 1 ? 1 : 0
    if x.count > 1 && x[1] > x[0] { (best, second) = (1, 0) }
    for i in 2..<max(2, x.count) {
      if x[i] > x[best] {
        second = best
        best = i
      } else if x[i] > x[second] {
        second = i
      }
    }
    return (best, second)
  }

  /// The report's lines; `text` turns generated token ids (those after the
  /// prompt) into text when a tokenizer is at hand.
  public func lines(text: (([Int]) -> String)? = nil) -> [String] {
    var lines = [
      "reference (\(source)): \(positions.count) positions; logits relative L2 median \(Format.significant(medianRelativeL2, 3)), max \(Format.significant(maxRelativeL2, 3)); largest logit error \(Format.significant(maxAbsError, 3)); top-1 agreement \(agreements)/\(positions.count)",
    ]
    for p in positions where !p.agrees {
      lines.append(
        "  position \(p.position): top-1 \(p.top1), reference \(p.referenceTop1) (reference margin \(Format.significant(p.referenceMargin, 3)), relative L2 \(Format.significant(p.relativeL2, 3)))")
    }
    let generated = steps.map(\.top1)
    if let d = firstDivergence {
      let k = d.position - (promptLength - 1)
      var line = "greedy text: the first \(k) of \(steps.count) generated tokens agree; step \(k + 1) (position \(d.position)) generates \(d.top1), the reference \(d.referenceTop1), whose margin is \(Format.significant(d.referenceMargin, 3))"
      if let text {
        let common = Array(generated.prefix(k))
        line += ": RTL \(text(common + [d.top1]).debugDescription), reference \(text(common + [d.referenceTop1]).debugDescription)"
      }
      lines.append(line)
    } else {
      lines.append("greedy text: all \(steps.count) generated tokens are the reference's argmax")
    }
    return lines
  }
}
