import Foundation
import HWGolden
import HWSim
import HWSpec
import Testing

@Suite("Imported checkpoint through the accelerator's RTL")
struct ImportedModelTests {
  @Test("a tiny BF16 checkpoint, imported and loaded, runs through the RTL bit-exact against the golden model")
  func importedTinyModelThroughRTL() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("hwgen-imported-\(UInt64.random(in: 0...UInt64.max))")
    defer { try? FileManager.default.removeItem(at: root) }
    try CheckpointFixture.checkpoint(seed: 21).write(to: root.appendingPathComponent("ckpt"), shards: 2)
    _ = try CheckpointImport.run(root.appendingPathComponent("ckpt"), to: root.appendingPathComponent("model"))
    let (weights, info) = try ModelDirectory.load(root.appendingPathComponent("model"))
    #expect(info.name == "ckpt" && weights.config.hiddenSize == 128 && weights.config.intermediateSize == 512)

    let profile = try DeviceProfile.named("d5005")
    let sim = try AcceleratorSimulation(
      weights: weights, config: AcceleratorConfig(lanes: 16), profile: profile, clockMHz: profile.defaultClockMHz, layers: nil)
    let prompt = [42]
    let report = try AcceleratorRunner.run(sim, prompt: prompt, tokens: 3, seed: 21, device: profile, clockMHz: profile.defaultClockMHz)
    #expect(report.firstMismatch == nil, "\(report.firstMismatch.map(\.description) ?? "")")
    #expect(report.mismatches == 0 && report.tokens == 3 && !report.extrapolated)
    var golden = FixedPointModel(weights: weights)
    #expect(report.generated == golden.generate(prompt: prompt, tokens: 3))
  }
}
