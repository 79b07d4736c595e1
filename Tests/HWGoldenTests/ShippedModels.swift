import Foundation
import Testing

/// The checkpoints shipped in `models/` and what the reference implementation
/// generates for them (`models/references.json`). Foundation only, so the
/// golden and CLI test targets share this file (symlinked there).
enum ShippedModels {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static func checkpoint(_ name: String) -> URL { root.appendingPathComponent("models/\(name)") }

  struct Reference: Decodable {
    var model: String
    var prompt: String
    var promptIDs: [Int]
    var generated: [Int]
    var text: String
    var margins: [Double]

    /// Where `ours` (a greedy continuation of the same prompt) first differs
    /// from the reference's: the step and the reference's margin there, or
    /// nil when all steps agree.
    func firstDivergence(_ ours: [Int]) -> (step: Int, margin: Double)? {
      (0..<min(ours.count, generated.count)).first { ours[$0] != generated[$0] }.map { ($0, margins[$0]) }
    }

    /// `ours` (`who`'s greedy continuation of the prompt) has the reference's
    /// length and first differs from it, if at all, only at a step whose
    /// margin is below the tolerance.
    func expectWithinTolerance(_ ours: [Int], _ who: String, sourceLocation: SourceLocation = #_sourceLocation) {
      #expect(ours.count == generated.count, "\(who): \(ours.count) tokens", sourceLocation: sourceLocation)
      if let d = firstDivergence(ours) {
        #expect(d.margin < ShippedModels.marginTolerance,
                "\(who) \(ours), reference \(generated): differs at step \(d.step), margin \(d.margin)", sourceLocation: sourceLocation)
      }
    }
  }

  static func references() throws -> [Reference] {
    struct File: Decodable { var references: [Reference] }
    let data = try Data(contentsOf: root.appendingPathComponent("models/references.json"))
    return try JSONDecoder().decode(File.self, from: data).references
  }

  static func reference(_ model: String) throws -> Reference {
    try #require(try references().first { $0.model == model })
  }

  /// The tolerance on the reference's top-1 minus top-2 logit margin
  /// (docs/numerics.md, "Trained checkpoints"): the fixed-point model may pick
  /// another token than the reference only where the margin is below it. It is
  /// the largest error of that margin measured on both checkpoints' reference
  /// sequences (0.22, fixed point against the Float32 reference), rounded up.
  static let marginTolerance = 0.25
}
