import Foundation
import HWGolden
import HWSupport
import Testing

/// `hwgen bench golden` on an imported trained checkpoint: --text, the drift
/// windows, and --logits against the golden model run in process.
@Suite struct BenchGoldenTests {
  @Test func logitsFileHoldsEveryPositionsFixedPointLogitsDequantized() throws {
    let original = try #require(CheckpointMutation.trainedModel("kjv-2m"), "kjv-2m not found in models/ of the repository, $HWGEN_MODELS or shared/models")
    let root = temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let model = root.appendingPathComponent("kjv-2m")
    let imported = try HWGenProcess.run(["import", original.path, "--out", model.path])
    try #require(imported.succeeded, "\(imported.output)")
    let npy = root.appendingPathComponent("logits.npy")
    let text = "And the LORD said unto Moses,"
    let positions = 12
    let run = try HWGenProcess.run([
      "bench", "golden", "--weights", model.path, "--text", text, "--tokens", String(positions), "--window", "4", "--logits", npy.path,
    ])
    #expect(run.succeeded, "\(run.output)")
    #expect(run.output.contains("tokens: 7 of --text (7 encoded), then 5 greedy (fixed point), fed to both models"), "\(run.output)")
    #expect(run.output.contains("  positions 8-11: median "), "\(run.output)")
    #expect(run.output.contains("logits: \(npy.path) (12 x 2048 float32"), "\(run.output)")

    // The same positions through the golden model here: the text's tokens, then its greedy choices.
    let (weights, info) = try ModelDirectory.load(model)
    let prompt = try #require(info.tokenizer).encode(text)
    #expect(prompt == [1, 362, 323, 409, 457, 386, 1399])  // models/references.json
    var golden = FixedPointModel(weights: weights)
    var rows: [[Int32]] = []
    var next = 0
    for p in 0..<positions {
      let step = golden.step(token: p < prompt.count ? prompt[p] : next)
      rows.append(step.logits)
      next = step.next
    }
    let written = try NumPyArray(contentsOf: npy)
    #expect(written.rows == positions && written.columns == 2048)
    #expect(written == NumPyArray(logits: rows))
    // Dequantized: Q15.16 / 65536, spot-checked by hand.
    #expect(written.values[5 * 2048 + 17] == Float(Double(rows[5][17]) / 65536))
    #expect(tree(root).filter { $0.contains(".tmp-") }.isEmpty)
  }

  @Test func logitsRowsDequantizeQ15_16() {
    let a = NumPyArray(logits: [[65536, -32768, 1, 0], [Int32.max, Int32.min, 3 << 16, -(5 << 15)]])
    #expect(a.rows == 2 && a.columns == 4)
    #expect(a.values == [1, -0.5, 0x1p-16, 0, Float(Int32.max) / 65536, -32768, 3, -2.5])
    #expect(NumPyArray(logits: []).rows == 0)
  }
}

/// Every name under `dir`, recursively, sorted.
private func tree(_ dir: URL) -> [String] {
  guard let enumerator = FileManager.default.enumerator(atPath: dir.path) else { return [] }
  return enumerator.compactMap { $0 as? String }.sorted()
}
