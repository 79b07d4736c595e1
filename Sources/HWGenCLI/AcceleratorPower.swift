import Foundation
import HWReport
import HWSim
import HWSpec
import HWSupport
import HWTools

/// The power estimate `simulate` and `sweep` give a run: the simulated design's resources
/// (Yosys, cached by content or from the committed record) and the power model over the
/// run's counted activity.
enum AcceleratorPower {
  /// The estimate, the synthesis result it used, and the line that says where the resources
  /// came from. With `--layers`, the on-chip activity is scaled to the extrapolated cycles;
  /// cycles and off-chip bytes are the report's, exact.
  static func estimate(
    _ r: SimulationReport, sim: AcceleratorSimulation, profile: DeviceProfile, clockMHz: Double, showProgress: Bool = true
  ) throws -> (PowerEstimate, synthesis: SynthesisResult, resources: String) {
    let (result, line) = try resources(of: sim.config, profile: profile, showProgress: showProgress)
    let config = sim.config
    let scale = Double(r.cycles.total) / Double(max(1, r.measuredCycles.total))
    var counts = r.activity.counts(
      config: config, tokens: r.tokens, rescaledRows: sim.program.rescaledRowsPerToken * r.tokens,
      multiplies: try ElementMultiplies(config), scale: scale)
    // Cycles and off-chip bytes are known exactly, extrapolated layers included.
    counts.cycles = r.cycles.total
    counts.offChipReadBytes = r.bytes
    do {
      let estimate = try PowerModel.estimate(
        activity: counts, resources: ResourceUsage(result.resources), profile: profile, clockMHz: clockMHz)
      return (estimate, result, line)
    } catch { throw SimulateError("\(error)") }
  }

  /// `mmfree_accel`'s synthesis for the device's flow and the line that says where it came from.
  static func resources(
    of config: AcceleratorConfig, profile: DeviceProfile, showProgress: Bool = true
  ) throws -> (SynthesisResult, line: String) {
    let flow = try SynthesisFlow.forFamily(profile.family)
    let runner = SynthesisRunner(flow: flow, recorded: RecordedSynthesis.committed())
    let job = try SynthesisJob.accelerator(config)
    let watch = Stopwatch()
    let yosys = try SynthesisRunner.yosysVersion()
    let label = "yosys: synthesizing mmfree_accel for its resources (\(flow.command); cached afterwards)"
    let result = showProgress
      ? try ProgressTicker.around(label) { try runner.synthesize(job, yosys: yosys) }
      : try runner.synthesize(job, yosys: yosys)
    let x = result.resources
    func short(_ unit: String) -> String { String(unit.split(separator: " (").first ?? Substring(unit)) }
    let origin = result.recordedIn.map { "recorded in \($0)" }
      ?? (result.fromCache ? "cached" : "synthesized in " + Format.seconds(watch.seconds))
    let line = "resources (Yosys \(flow.command), \(origin)): \(x.luts) \(short(flow.lutUnit)), \(x.flipFlops) FFs, \(Format.significant(x.blockRAMBlocks, 4)) \(short(flow.blockRAMUnit)), \(x.dsps) DSPs"
    return (result, line)
  }
}
