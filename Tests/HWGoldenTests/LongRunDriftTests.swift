import Dispatch
import Foundation
import HWGolden
import HWSupport
import Testing

/// The fixed-point golden model against the Float32 reference over a long
/// context on the trained kjv-7m (models/, imported first): a
/// real text, teacher-forced, 256 positions. The drift of the logits must not
/// grow with position (docs/numerics.md, "Drift over the context").
@Suite("Fixed-point drift over a long context on a trained checkpoint")
struct LongRunDriftTests {
  /// Genesis 1:1-13 (King James Version); the model was trained on this Bible.
  static let genesis = """
    In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness was \
    upon the face of the deep. And the Spirit of God moved upon the face of the waters. And God said, Let there be light: \
    and there was light. And God saw the light, that it was good: and God divided the light from the darkness. And God \
    called the light Day, and the darkness he called Night. And the evening and the morning were the first day. And God \
    said, Let there be a firmament in the midst of the waters, and let it divide the waters from the waters. And God made \
    the firmament, and divided the waters which were under the firmament from the waters which were above the firmament: \
    and it was so. And God called the firmament Heaven. And the evening and the morning were the second day. And God \
    said, Let the waters under the heaven be gathered together unto one place, and let the dry land appear: and it was \
    so. And God called the dry land Earth; and the gathering together of the waters called he Seas: and God saw that it \
    was good. And God said, Let the earth bring forth grass, the herb yielding seed, and the fruit tree yielding fruit \
    after his kind, whose seed is in itself, upon the earth: and it was so. And the earth brought forth grass, and herb \
    yielding seed after his kind, and the tree yielding fruit, whose seed was in itself, after his kind: and God saw that \
    it was good. And the evening and the morning were the third day.
    """

  static let positions = 256
  static let window = 64

  @Test("kjv-7m, Genesis 1 teacher-forced over 256 positions: the logit drift does not grow with position")
  func logitDriftDoesNotGrowOverTheContext() throws {
    let original = try #require(CheckpointMutation.trainedModel("kjv-7m"), "kjv-7m not found in models/ of the repository, $HWGEN_MODELS or shared/models")
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("hwgen-longrun-\(UInt64.random(in: 0...UInt64.max))")
    defer { try? FileManager.default.removeItem(at: root) }
    let dir = root.appendingPathComponent("kjv-7m")
    _ = try CheckpointImport.run(original, to: dir)
    let (weights, info) = try ModelDirectory.load(dir)
    let tokenizer = try #require(info.tokenizer)
    let ids = tokenizer.encode(Self.genesis)
    try #require(ids.count >= Self.positions, "Genesis 1:1-13 encodes to \(ids.count) tokens")
    let sequence = Array(ids.prefix(Self.positions))

    // The two models on two threads; then the drift position by position.
    final class Traces: @unchecked Sendable {
      var fixed: [FixedPointModel.Trace] = []
      var float: [FloatReferenceModel.Trace] = []
    }
    let traces = Traces()
    DispatchQueue.concurrentPerform(iterations: 2) { which in
      if which == 0 {
        var model = FixedPointModel(weights: weights)
        traces.fixed = sequence.map { model.stepTraced(token: $0) }
      } else {
        var model = FloatReferenceModel(weights: weights)
        traces.float = sequence.map { model.stepTraced(token: $0) }
      }
    }
    var drift = ModelDrift(layers: weights.config.layers)
    for (f, r) in zip(traces.fixed, traces.float) { drift.add(ModelDrift.Outputs(f), ModelDrift.Outputs(r)) }
    let windows = drift.windows(size: Self.window)
    let report = windows.map {
      "positions \($0.positions.lowerBound)-\($0.positions.upperBound - 1): median \(String(format: "%.2f%%", 100 * $0.median)), "
        + "mean \(String(format: "%.2f%%", 100 * $0.mean)), max \(String(format: "%.2f%%", 100 * $0.max)), top-1 \($0.top1Agreement)/\($0.positions.count)"
    }.joined(separator: "; ")
    print("kjv-7m, Genesis 1, \(Self.positions) positions: \(report)")

    #expect(windows.count == Self.positions / Self.window)
    let first = windows.first!, last = windows.last!
    // Not growing: the last window's median at most 1.5 x the first's (measured 1.09x).
    #expect(last.median <= 1.5 * first.median, "\(report)")
    for w in windows {
      // Absolute: a window's median below 4%, twice the logits' sensitivity floor (2.0%, docs/numerics.md),
      // and its worst position below 10% (measured: medians 2.1-2.3%, worst 4.2-5.5%).
      #expect(w.median < 0.04, "\(report)")
      #expect(w.max < 0.10, "\(report)")
      // Top-1: at least 90% of a window's positions agree (measured 61-64 of 64).
      #expect(w.top1Agreement * 10 >= w.positions.count * 9, "\(report)")
    }
  }
}
