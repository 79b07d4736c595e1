import Foundation
import HWGolden
import HWSpec
import Testing

/// The trained checkpoints in models/ through the fixed-point golden model,
/// against the Float32 reference and the reference implementation's greedy
/// continuations (models/references.json).
@Suite("Shipped checkpoints: fixed point against float and the reference implementation")
struct ShippedCheckpointTests {
  static func load(_ name: String) throws -> ModelWeights {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("hwgen-shipped-\(name)-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: out) }
    _ = try CheckpointImport.run(ShippedModels.checkpoint(name), to: out)
    return try ModelDirectory.load(out).0
  }

  @Test("the fixed-point margins stay within the tolerance; greedy text diverges only where the reference's margin is below it",
        arguments: ["kjv-2m", "kjv-7m"])
  func reproducesTheReference(_ name: String) throws {
    let reference = try ShippedModels.reference(name)
    let weights = try Self.load(name)
    let tolerance = ShippedModels.marginTolerance
    // Teacher-forced: the reference's prompt and continuation, position by
    // position, so every step is compared on the reference's own history.
    var fixed = FixedPointModel(weights: weights)
    var float = FloatReferenceModel(weights: weights)
    let sequence = reference.promptIDs + reference.generated.dropLast()
    var worstMarginError = 0.0, worstFloatMarginDifference = 0.0
    for (p, token) in sequence.enumerated() {
      let f = fixed.step(token: token)
      let r = float.step(token: token)
      let step = p - (reference.promptIDs.count - 1)
      guard step >= 0 else { continue }
      // The reference's top two tokens, and the error of their margin in fixed point.
      let order = r.logits.indices.sorted { r.logits[$0] > r.logits[$1] || (r.logits[$0] == r.logits[$1] && $0 < $1) }
      let floatMargin = Double(r.logits[order[0]]) - Double(r.logits[order[1]])
      let fixedMargin = Fixed.toDouble(f.logits[order[0]]) - Fixed.toDouble(f.logits[order[1]])
      worstMarginError = max(worstMarginError, abs(fixedMargin - floatMargin))
      // The Float32 reference follows the reference implementation: same token, the margin within 0.02.
      #expect(r.next == reference.generated[step], "\(name) step \(step): Float32 reference \(r.next), reference implementation \(reference.generated[step])")
      worstFloatMarginDifference = max(worstFloatMarginDifference, abs(floatMargin - reference.margins[step]))
      #expect(abs(floatMargin - reference.margins[step]) < 0.02, "\(name) step \(step): Float32 margin \(floatMargin), reference \(reference.margins[step])")
      if reference.margins[step] >= tolerance {
        #expect(f.next == reference.generated[step], "\(name) step \(step) (margin \(reference.margins[step])): fixed point \(f.next), reference \(reference.generated[step])")
      }
    }
    #expect(worstMarginError <= tolerance, "\(name): a top-1/top-2 margin is off by \(worstMarginError) in fixed point")
    // Free-running greedy generation, as the accelerator does it.
    var greedy = FixedPointModel(weights: weights)
    let ours = greedy.generate(prompt: reference.promptIDs, tokens: reference.generated.count)
    reference.expectWithinTolerance(ours, "\(name) fixed point")
    print("\(name): largest margin error \(worstMarginError) (Float32 against the reference implementation: \(worstFloatMarginDifference)); greedy agrees for \(reference.firstDivergence(ours)?.step ?? ours.count) of \(ours.count) steps")
  }
}
