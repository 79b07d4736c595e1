import Foundation
import HWDSL
import HWGenerators
import HWReport
import HWSpec
import HWSupport

/// `hwgen synth`'s result: every unit of a `UnitsBundle` synthesized with the
/// device family's flow, a total for the accelerator, and the share of the
/// device each takes.
public struct ResourceReport: Codable, Sendable {
  public struct Row: Codable, Sendable {
    public let name: String
    public let top: String
    public let resources: SynthesisResources
    /// Wall time and cache use: reported on the terminal, not encoded, so the
    /// JSON of one design is the same bytes on every run.
    public var seconds: Double = 0
    public var fromCache: Bool = false

    enum CodingKeys: String, CodingKey { case name, top, resources }

    init(name: String, top: String, resources: SynthesisResources, seconds: Double, fromCache: Bool) {
      self.name = name
      self.top = top
      self.resources = resources
      self.seconds = seconds
      self.fromCache = fromCache
    }
  }

  /// Fractions of the device's capacity (nil where the profile gives none).
  public struct Utilization: Codable, Sendable, Hashable {
    public let luts: Double?
    public let flipFlops: Double?
    public let blockRAMBits: Double?
    public let ultraRAMBits: Double?
    public let dsps: Double?
  }

  public let device: String
  public let fpga: String
  public let lanes: Int
  public let yosys: String
  public let flow: String
  public let lutUnit: String
  public let blockRAMUnit: String
  /// One row per unit module of the bundle, in the bundle's order.
  public let units: [Row]
  public let total: SynthesisResources
  /// How the total was formed: the accelerator top, or which units were summed.
  public let totalBasis: String
  public let utilization: Utilization

  /// The units `bundle` emits, one synthesis job each (the same `.sv` bytes
  /// `hwgen emit` writes).
  public static func jobs(_ bundle: UnitsBundle) -> [SynthesisJob] {
    let header = UnitsBundle.header(bundle.core)
    return bundle.units.map { unit in
      SynthesisJob(
        name: unit.name, files: RTLGates.Files(top: unit.design.top.name, sources: unit.design.files(header: header)))
    }
  }

  /// The module that is the whole accelerator, when the bundle has it.
  public static let acceleratorTop = "mmfree_accel"

  /// Synthesizes every unit of `bundle` for `profile` and forms the total.
  public static func synthesize(
    _ bundle: UnitsBundle, profile: DeviceProfile, runner: SynthesisRunner, jobs: Int = 2,
    progress: @Sendable (SynthesisResult) -> Void = { _ in }
  ) throws -> ResourceReport {
    let results = try runner.run(Self.jobs(bundle), jobs: jobs, progress: progress)
    let rows = results.map { Row(name: $0.name, top: $0.top, resources: $0.resources, seconds: $0.seconds, fromCache: $0.fromCache) }
    let (total, basis) = Self.combined(rows, designs: bundle.units.map(\.design))
    return ResourceReport(
      device: profile.name, fpga: profile.fpga, lanes: bundle.core.lanes, yosys: try SynthesisRunner.yosysVersion(),
      flow: runner.flow.summary, lutUnit: runner.flow.lutUnit, blockRAMUnit: runner.flow.blockRAMUnit, units: rows,
      total: total, totalBasis: basis, utilization: utilization(total, profile.resources, flow: runner.flow))
  }

  /// The accelerator top's row when there is one; else the sum of the units
  /// no other unit instantiates.
  static func combined(_ rows: [Row], designs: [Design]) -> (SynthesisResources, String) {
    if let top = rows.first(where: { $0.top == acceleratorTop }) {
      return (top.resources, "the \(acceleratorTop) top")
    }
    let nested = Set(designs.flatMap { design in design.modules.map(\.name).filter { $0 != design.top.name } })
    let summed = rows.filter { !nested.contains($0.top) }
    let basis = "sum of \(summed.map(\.top).joined(separator: " + ")) (no \(acceleratorTop) top in the bundle yet)"
    return (summed.reduce(SynthesisResources.zero) { $0 + $1.resources }, basis)
  }

  public static func utilization(_ r: SynthesisResources, _ capacity: DeviceProfile.Resources, flow: SynthesisFlow) -> Utilization {
    func fraction(_ used: Double, _ available: Int?) -> Double? {
      guard let available, available > 0 else { return nil }
      return used / Double(available)
    }
    let logic: Double?
    switch flow.kind {
    case .xilinxUltraScalePlus: logic = fraction(Double(r.luts), capacity.luts)
    case .intelALM: logic = fraction(Double(r.alms ?? 0), capacity.alms)
    }
    return Utilization(
      luts: logic, flipFlops: fraction(Double(r.flipFlops), capacity.registers),
      blockRAMBits: fraction(Double(r.blockRAMBits), capacity.blockRAMBits),
      ultraRAMBits: fraction(Double(r.ultraRAMBits), capacity.ultraRAMBits),
      dsps: fraction(Double(r.dsps), capacity.dspSlices ?? capacity.dspBlocks))
  }
}

extension ResourceUsage {
  /// What the power model charges for a synthesized design.
  public init(_ r: SynthesisResources) {
    self.init(luts: r.luts, flipFlops: r.flipFlops, blockRAMBlocks: r.blockRAMBlocks, dsps: r.dsps)
  }
}
