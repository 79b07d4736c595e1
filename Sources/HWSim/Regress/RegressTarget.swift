import HWGenerators
import HWSpec

/// One design under regression: a unit and its configuration.
///
/// Extension point: a unit joins the matrix as a further case here (its spec
/// syntax in `parse`, its RTL in `sources`, its multiplier budget in
/// `allowedMultipliers`, its seeded run in `RegressRunner.run`). The ternary
/// core and the MLGRU unit are in; the RMSNorm unit and the token-level
/// accelerator are next.
public enum RegressTarget: Hashable, Sendable, CustomStringConvertible {
  case ternaryCore(TernaryCoreConfig)
  /// The MLGRU element-wise unit; Verilator only (its Icarus bench is still to write).
  case mlgru(MLGRUUnitConfig)

  /// The unit's top module, which also names it in reports.
  public var unit: String {
    switch self {
    case .ternaryCore: return "ternary_core"
    case .mlgru: return "mlgru_unit"
    }
  }

  /// The text `--configs` accepts for exactly this target: `4x8:popcount`.
  public var spec: String {
    switch self {
    case .ternaryCore(let c): return "\(c.lanes)x\(c.laneWidth):\(c.reduction.rawValue)"
    case .mlgru(let c): return "mlgru:\(c.lanes)x\(c.maxLayers)x\(c.maxHidden)"
    }
  }

  public var description: String { "\(unit) \(spec)" }

  /// Emitted SystemVerilog, in filelist order, and the top module.
  public func sources() throws -> (top: String, files: [(name: String, contents: String)]) {
    switch self {
    case .ternaryCore(let config):
      let bundle = try RTLBundle(config: config)
      return (bundle.topModule, bundle.sources)
    case .mlgru(let config):
      let (design, files) = try MLGRUUnitGenerator.files(config)
      return (design.top.name, files)
    }
  }

  /// Multipliers Yosys may find (`$mul`/`$macc` before techmapping).
  public var allowedMultipliers: Int {
    switch self {
    case .ternaryCore: return 0
    case .mlgru(let config): return MLGRUUnitGenerator.multipliersPerLane * config.lanes
    }
  }

  /// Whether the Icarus bench runs this target (an interpreter: small designs only).
  public var runsUnderIcarus: Bool {
    switch self {
    case .ternaryCore(let config): return IcarusSimulation.supports(config)
    case .mlgru: return false
    }
  }

  /// Whether `hwgen lint` runs Yosys on this target: the MLGRU unit's h memory
  /// maps to flip-flops in Yosys' generic flow, so only tiny memories synthesize in seconds.
  public var synthesizesInLint: Bool {
    switch self {
    case .ternaryCore: return true
    case .mlgru(let config): return config.stateDepth * config.lanes <= 1024
    }
  }

  // MARK: - The --configs syntax

  public struct Invalid: Error, CustomStringConvertible {
    public let description: String
  }

  /// What `--configs` accepts, for help texts.
  public static let syntax = """
    comma-separated LANESxWIDTH[:REDUCTION] for the ternary core (REDUCTION popcount or adder-tree, \
    default popcount; e.g. 4x8:popcount,16x64:adder-tree), mlgru:LANESxLAYERSxHIDDEN for the MLGRU \
    unit (e.g. mlgru:3x3x64), or a named set: \(RegressMatrix.sets.map(\.name).joined(separator: ", "))
    """

  /// Parses a `--configs` list; duplicates are dropped, first occurrence kept.
  public static func parseList(_ text: String) throws -> [RegressTarget] {
    let items = text.split(separator: ",", omittingEmptySubsequences: false).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    guard !items.isEmpty, !items.contains(where: \.isEmpty) else {
      throw Invalid(description: "configs '\(text)' has an empty entry; expected \(syntax)")
    }
    var targets: [RegressTarget] = []
    for item in items {
      let parsed = try RegressMatrix.set(named: item)?.targets ?? [parse(item)]
      for target in parsed where !targets.contains(target) { targets.append(target) }
    }
    return targets
  }

  /// One `LANESxWIDTH[:REDUCTION]` or `mlgru:LANESxLAYERSxHIDDEN`.
  public static func parse(_ item: String) throws -> RegressTarget {
    if item.lowercased().hasPrefix("mlgru:") {
      let numbers = item.dropFirst(6).lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
      guard numbers.count == 3, let lanes = numbers[0], let layers = numbers[1], let hidden = numbers[2] else {
        throw Invalid(description: "config '\(item)' is not mlgru:LANESxLAYERSxHIDDEN; e.g. mlgru:3x3x64")
      }
      let config = MLGRUUnitConfig(lanes: lanes, maxLayers: layers, maxHidden: hidden)
      do {
        try config.validate()
      } catch let error as MLGRUUnitConfig.Invalid {
        throw Invalid(description: "config '\(item)': \(error.description)")
      }
      return .mlgru(config)
    }
    let parts = item.split(separator: ":", omittingEmptySubsequences: false)
    let shape = parts[0].lowercased().split(separator: "x", omittingEmptySubsequences: false)
    guard parts.count <= 2, shape.count == 2, let lanes = Int(shape[0]), let width = Int(shape[1]) else {
      throw Invalid(description: "config '\(item)' is not LANESxWIDTH[:REDUCTION] or a named set (\(RegressMatrix.sets.map(\.name).joined(separator: ", "))); e.g. 4x8:popcount")
    }
    var reduction = TernaryCoreConfig.Reduction.popcount
    if parts.count == 2 {
      guard let named = TernaryCoreConfig.Reduction(rawValue: String(parts[1])) else {
        throw Invalid(description: "config '\(item)': unknown reduction '\(parts[1])'; use \(TernaryCoreConfig.Reduction.allCases.map(\.rawValue).joined(separator: " or "))")
      }
      reduction = named
    }
    let config = TernaryCoreConfig(lanes: lanes, laneWidth: width, reduction: reduction)
    do {
      try config.validate()
    } catch let error as TernaryCoreConfig.Invalid {
      throw Invalid(description: "config '\(item)': \(error.description)")
    }
    return .ternaryCore(config)
  }
}

/// The configurations CI regresses, as named sets for `--configs`.
public enum RegressMatrix {
  public struct NamedSet: Sendable {
    public let name: String
    public let targets: [RegressTarget]
    public let summary: String
  }

  static func core(_ lanes: Int, _ width: Int, _ reduction: TernaryCoreConfig.Reduction = .popcount) -> RegressTarget {
    .ternaryCore(TernaryCoreConfig(lanes: lanes, laneWidth: width, reduction: reduction))
  }

  public static let lanes = [1, 2, 4, 8, 16, 32]

  /// Every lane count with a single-weight lane, an odd width and the default
  /// width (popcount lanes), and with an odd and a power-of-two width
  /// (adder-tree lanes); plus the default 16 x 64 in both datapaths.
  public static let full: [RegressTarget] =
    lanes.flatMap { l in [core(l, 1), core(l, 7), core(l, 64)] }
    + lanes.flatMap { l in [core(l, 3, .adderTree), core(l, 16, .adderTree)] }
    + [core(16, 64, .adderTree)]
    + [mlgru(1, 2, 7), mlgru(3, 3, 64), mlgru(16, 32, 2560)]

  static func mlgru(_ lanes: Int, _ layers: Int, _ hidden: Int) -> RegressTarget {
    .mlgru(MLGRUUnitConfig(lanes: lanes, maxLayers: layers, maxHidden: hidden))
  }

  /// The slice `make test` runs: the configurations the core tests already
  /// build (cached), one more in each datapath, and the smallest MLGRU unit
  /// its own tests build.
  public static let quick: [RegressTarget] = [
    core(1, 1), core(3, 5), core(8, 16), core(16, 64), core(4, 7, .adderTree), core(2, 3, .adderTree),
    mlgru(1, 2, 7),
  ]

  public static let sets: [NamedSet] = [
    NamedSet(
      name: "full", targets: full,
      summary: "cores of lanes 1-32 with widths 1/7/64 popcount and 3/16 adder-tree, 16x64 adder-tree; MLGRU units 1x2x7, 3x3x64, 16x32x2560"),
    NamedSet(name: "quick", targets: quick, summary: "the make test slice"),
  ]

  public static func set(named name: String) -> NamedSet? { sets.first { $0.name == name } }
}
