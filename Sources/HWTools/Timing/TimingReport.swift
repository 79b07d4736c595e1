import Foundation
import HWGenerators
import HWSpec

/// `hwgen timing`'s table: every unit of the bundle at `lanes` with its logic
/// depth under the UltraScale+ and Intel flows and placed and routed on an
/// LFE5UM-85F, where the ECP5 configuration's accelerator stands in for the
/// `lanes` one.
public struct TimingReport: Codable, Sendable {
  public struct Row: Codable, Sendable {
    public let name: String
    public let top: String
    public let ecp5: TimingResult?
    public let ultraScalePlus: TimingResult?
    public let intelALM: TimingResult?
  }

  public let lanes: Int
  public let ecp5Configuration: String
  public let rows: [Row]

  /// The configuration placed and routed on ECP5: the accelerator sized for
  /// the shipped kjv-2m model (hidden 128, 4 layers, FFN 512) at 2 lanes,
  /// with h of 128 elements a layer, 4096-element scratchpad and parameter
  /// buffers and a 2 KiB weight FIFO (64 beats). 2 lanes is the largest placed
  /// and routed here (30 minutes): 4 lanes packs into 82% of the 85F's LUT4 but
  /// was far from a legal routing after 30 minutes of router2, and 8 lanes runs
  /// out of MULT18X18D (docs/timing.md). The default 16-lane accelerator is about 112k
  /// LUT6 under synth_xilinx (RTL/synthesis.json) and holds 6 Mbit of buffers:
  /// it does not fit the 85F's 84k LUT4 and 3.7 Mbit of block RAM.
  public static let ecp5Accelerator = AcceleratorConfig(
    lanes: 2, maxLayers: 4, maxHidden: 512, maxStateLength: 128, maxLength: 512, weightFIFOBeats: 64,
    scratchpadElements: 4096, parameterElements: 4096, programDepth: 1024)

  /// `ecp5Accelerator` with its weights packed as `packing` and `streams` streams.
  public static func ecp5Configuration(_ packing: WeightPacking, streams: Int = 1) -> AcceleratorConfig {
    var config = ecp5Accelerator.streaming(streams)
    config.weightPacking = packing
    return config
  }

  /// The units `hwgen emit` writes for `config`'s core, as synthesis jobs,
  /// with `config`'s accelerator in place of the bundle's default-sized one.
  public static func jobs(for config: AcceleratorConfig) throws -> [SynthesisJob] {
    let bundle = try UnitsBundle(core: config.core, weightPacking: config.weightPacking, streams: config.streams)
    let units = ResourceReport.jobs(bundle).filter { $0.files.top != ResourceReport.acceleratorTop }
    return units + [try SynthesisJob.accelerator(config)]
  }

  /// What ECP5 places and routes: the units of `jobs` (the depth analysis's, at its lanes),
  /// with the ECP5 configuration's accelerator in place of theirs, which does not fit.
  public static func ecp5Jobs(
    replacingAcceleratorIn jobs: [SynthesisJob], packing: WeightPacking = .planes, streams: Int = 1
  ) throws -> [SynthesisJob] {
    jobs.filter { $0.files.top != ResourceReport.acceleratorTop }
      + [try SynthesisJob.accelerator(ecp5Configuration(packing, streams: streams))]
  }

  /// Runs the analyses (cached or recorded results are used as they are).
  public static func run(
    lanes: Int, packing: WeightPacking = .planes, streams: Int = 1, depth: Bool = true, placeAndRoute: Bool, designs: Set<String>? = nil,
    runner: TimingRunner, jobs: Int,
    progress: @escaping @Sendable (TimingResult) -> Void = { _ in }
  ) throws -> TimingReport {
    func chosen(_ list: [SynthesisJob]) -> [SynthesisJob] { list.filter { designs?.contains($0.files.top) ?? true } }
    let all = try Self.jobs(for: AcceleratorConfig(lanes: lanes, weightPacking: packing, streams: streams))
    let deep = chosen(all)
    let us = depth ? try runner.run(deep, analysis: .ultraScalePlus, jobs: jobs, progress: progress) : []
    let intel = depth ? try runner.run(deep, analysis: .intelALM, jobs: jobs, progress: progress) : []
    let placed = placeAndRoute
      ? try runner.run(
        chosen(try Self.ecp5Jobs(replacingAcceleratorIn: all, packing: packing, streams: streams)), analysis: .ecp5,
        jobs: jobs, progress: progress)
      : []
    let rows = deep.indices.map { i in
      Row(
        name: deep[i].name, top: deep[i].files.top, ecp5: placed.first { $0.top == deep[i].files.top },
        ultraScalePlus: depth ? us[i] : nil, intelALM: depth ? intel[i] : nil)
    }
    return TimingReport(
      lanes: lanes, ecp5Configuration: ecp5Configuration(packing, streams: streams).description, rows: rows)
  }
}
