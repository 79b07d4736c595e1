import Foundation
import HWGenerators
import HWGolden
import HWSim
import HWSpec
import Testing

/// `--layers K` against a simulation of every layer: the extrapolated cycles stay within the documented bound
/// (`LayerExtrapolation.errorBound`), the extrapolated bytes are exact, and no figure exceeds the memory roofline.
@Suite("Accelerator extrapolation: --layers K against the whole model simulated", .serialized)
struct AcceleratorExtrapolationTests {
  /// The 1.3B preset's layer and lm_head shapes with 6 layers instead of 24, so the reference run stays short.
  static let b1_3Short = ModelConfig(name: "1.3b-6", hiddenSize: 2048, layers: 6, vocabSize: 32000)

  static func run(_ model: ModelConfig, device: String, lanes: Int, fifoKiB: Int, layers: Int?) throws -> SimulationReport {
    let profile = try DeviceProfile.named(device)
    let sim = try AcceleratorModels.locked {
      try AcceleratorSimulation(
        weights: ModelWeights.synthetic(model, seed: 3), config: AcceleratorConfig(lanes: lanes, weightFIFOKiB: fifoKiB),
        profile: profile, clockMHz: profile.defaultClockMHz, layers: layers)
    }
    let report = try AcceleratorRunner.run(
      sim, prompt: [1], tokens: 1, seed: 3, device: profile, clockMHz: profile.defaultClockMHz)
    #expect(report.firstMismatch == nil, "\(report.firstMismatch.map(\.description) ?? "")")
    return report
  }

  @Test("extrapolated cycles within the bound, bytes exact, never above the roofline",
        arguments: [(ModelConfig.m370, "d5005", 16, 256, [1, 2, 3]), (b1_3Short, "d5005", 16, 256, [2, 3]),
                    (ModelConfig.m370, "u280", 128, 1024, [2, 3])])
  func againstFullSimulation(model: ModelConfig, device: String, lanes: Int, fifoKiB: Int, ks: [Int]) throws {
    let full = try Self.run(model, device: device, lanes: lanes, fifoKiB: fifoKiB, layers: nil)
    #expect(!full.extrapolated && full.extrapolationBound == nil && full.rooflineFraction <= 1)
    for k in ks {
      let context = "\(model.name) on \(device), \(lanes) lanes, K = \(k)"
      let cut = try Self.run(model, device: device, lanes: lanes, fifoKiB: fifoKiB, layers: k)
      #expect(cut.extrapolated && cut.layersSimulated == k && cut.extrapolationBasis != nil)
      #expect(cut.bytes == full.bytes, "\(context): \(cut.bytes) bytes extrapolated, \(full.bytes) moved")
      let error = Double(cut.cycles.total - full.cycles.total) / Double(full.cycles.total)
      let bound = LayerExtrapolation.errorBound(layersSimulated: k)
      #expect(cut.extrapolationBound == bound)
      #expect(abs(error) <= bound, "\(context): \(cut.cycles.total) cycles extrapolated, \(full.cycles.total) simulated, error \(error)")
      #expect(cut.rooflineFraction <= 1, "\(context): \(cut.rooflineFraction) of the roofline")
      let c = cut.cycles
      #expect(c.matrix + c.elementwise + c.stalls + c.control == c.total && [c.stalls, c.matrix].allSatisfy { $0 >= 0 })
      print("extrapolation: \(context): \(cut.cycles.total) vs \(full.cycles.total) cycles, error \(String(format: "%+.3f%%", 100 * error)), roofline \(String(format: "%.2f%%", 100 * cut.rooflineFraction)) (full \(String(format: "%.2f%%", 100 * full.rooflineFraction)))")
    }
  }

  @Test("the memory-time floors hold by construction: layers measured faster than their bytes are charged their bytes")
  func floors() throws {
    func mark(_ cycles: Int, busy: Int, bytes: Int) -> LayerExtrapolation.Mark {
      .init(counters: [.cycles: cycles, .matVecCycles: cycles / 2], busyCycles: busy, bytes: bytes)
    }
    // Three layers of 1,000 cycles that moved 100,000 bytes each at 200 bytes a cycle (500 cycles of memory):
    // core-bound, so each left-out layer costs the measured 1,000 cycles.
    let marks = [mark(1_000, busy: 500, bytes: 100_000), mark(2_000, busy: 1_000, bytes: 200_000),
                 mark(3_000, busy: 1_500, bytes: 300_000)]
    let measured = CycleBreakdown(matrix: 2_000, elementwise: 1_000, stalls: 0, control: 500)
    let core = LayerExtrapolation(
      start: mark(0, busy: 0, bytes: 0), marks: marks, measured: measured, measuredBytes: 350_000, layers: 8,
      unsimulatedBytes: 5 * 100_000, bytesPerCycle: 200)
    #expect(core.basis == .steadyLayers && core.addedLayers == 5 && core.cyclesPerAddedLayer == 1_000)
    #expect(core.cycles.total == measured.total + 5_000 && !core.rooflineFloorApplied)
    #expect(core.bytes == 850_000)
    // The left-out layers hold four times the bytes: each is charged its memory time, 2,000 cycles, as stalls.
    let memory = LayerExtrapolation(
      start: mark(0, busy: 0, bytes: 0), marks: marks, measured: measured, measuredBytes: 350_000, layers: 8,
      unsimulatedBytes: 5 * 400_000, bytesPerCycle: 200)
    #expect(memory.cyclesPerAddedLayer == 2_000)
    #expect(memory.cycles.total == measured.total + 10_000)
    #expect(memory.cycles.stalls == 5_000)
    // A measured part that claims fewer cycles than its own bytes take is raised to the token's roofline floor.
    let impossible = LayerExtrapolation(
      start: mark(0, busy: 0, bytes: 0), marks: marks, measured: measured, measuredBytes: 4_000_000, layers: 8,
      unsimulatedBytes: 5 * 100_000, bytesPerCycle: 200)
    #expect(impossible.rooflineFloorApplied && impossible.cycles.total == 4_500_000 / 200)
    // Two layers: the last one's span, plus the memory time of the bytes it did not move, when its memory was busy.
    let two = LayerExtrapolation(
      start: mark(0, busy: 0, bytes: 0), marks: [mark(1_000, busy: 1_000, bytes: 200_000), mark(2_000, busy: 2_000, bytes: 380_000)],
      measured: measured, measuredBytes: 600_000, layers: 4, unsimulatedBytes: 2 * 200_000, bytesPerCycle: 200)
    #expect(two.basis == .lastLayer && two.cyclesPerAddedLayer == 1_100)
  }
}
