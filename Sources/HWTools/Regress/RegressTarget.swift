import HWDSL
import HWGenerators
import HWSim
import HWSpec

/// One design under regression: a unit and its configuration.
///
/// Extension point: a unit joins the matrix as a further case here (its spec
/// syntax in `parse`, its RTL in `sources` and `design` (whose IR census is
/// the multiplier count Yosys must match), its seeded run in `RegressRunner.run`). The ternary
/// core runs on both simulators; the element units and the whole accelerator
/// on Verilator (their Icarus benches are still to write).
public enum RegressTarget: Hashable, Sendable, CustomStringConvertible {
  case ternaryCore(TernaryCoreConfig)
  /// The MLGRU element-wise unit.
  case mlgru(MLGRUUnitConfig)
  /// The RMSNorm / quantize unit (`lanes`, `maxLength` of the config).
  case norm(NormUnitConfig)
  /// The BitLinear rescale unit (`lanes`, `accumulatorWidth` of the config).
  case rescale(NormUnitConfig)
  /// The whole accelerator running the tiny preset (seeded weights and prompt,
  /// greedy generation in hardware, every checkpoint compared).
  case accelerator(AcceleratorConfig)
  /// The AXI4 read DMA engine against the C++ memory slave (`dataWidth`,
  /// `maxBurstBeats`, `outstanding` of the config).
  case axiRead(AXIReadMasterConfig)

  /// The unit's top module, which also names it in reports.
  public var unit: String {
    switch self {
    case .ternaryCore: return "ternary_core"
    case .mlgru: return "mlgru_unit"
    case .norm: return "norm_unit"
    case .rescale: return "rescale_unit"
    case .accelerator: return AcceleratorGenerator.moduleName
    case .axiRead: return AXIReadMasterGenerator.moduleName
    }
  }

  /// The text `--configs` accepts for exactly this target: `4x8:popcount`.
  public var spec: String {
    switch self {
    case .ternaryCore(let c): return "\(c.lanes)x\(c.laneWidth):\(c.reduction.rawValue)"
    case .mlgru(let c): return "mlgru:\(c.lanes)x\(c.maxLayers)x\(c.maxHidden)"
    case .norm(let c): return "norm:\(c.lanes)x\(c.maxLength)"
    case .rescale(let c): return "rescale:\(c.lanes)x\(c.accumulatorWidth)"
    case .accelerator(let c):
      return "accel:\(c.lanes)" + (c.weightPacking == .planes ? "" : ":\(c.weightPacking)") + (c.streams == 1 ? "" : ":s\(c.streams)")
    case .axiRead(let c): return "axi:\(c.dataWidth)x\(c.maxBurstBeats)x\(c.outstanding)"
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
    case .norm(let config):
      return (try NormUnitGenerator.generate(config).top.name, try NormUnitGenerator.sources(config))
    case .rescale(let config):
      return (try RescaleUnitGenerator.generate(config).top.name, try RescaleUnitGenerator.sources(config))
    case .accelerator(let config):
      let (design, files) = try AcceleratorGenerator.files(config)
      return (design.top.name, files)
    case .axiRead(let config):
      let (design, files) = try AXIReadMasterGenerator.files(config)
      return (design.top.name, files)
    }
  }

  /// The generated design, before printing.
  public func design() throws -> Design {
    switch self {
    case .ternaryCore(let config): return try TernaryCoreGenerator.generate(config)
    case .mlgru(let config): return try MLGRUUnitGenerator.generate(config)
    case .norm(let config): return try NormUnitGenerator.generate(config)
    case .rescale(let config): return try RescaleUnitGenerator.generate(config)
    case .accelerator(let config): return try AcceleratorGenerator.generate(config)
    case .axiRead(let config): return try AXIReadMasterGenerator.generate(config)
    }
  }

  /// The multipliers Yosys must find (`$mul`/`$macc` before techmapping): the
  /// IR's own count of `*` operators over the top's hierarchy, so the gate
  /// compares two independent counts rather than a hand-kept budget.
  public func multiplierCensus() throws -> MultiplierCensus {
    try design().top.multipliers
  }

  /// Whether the Icarus bench runs this target (an interpreter: small designs only).
  public var runsUnderIcarus: Bool {
    switch self {
    case .ternaryCore(let config): return IcarusSimulation.supports(config)
    case .mlgru, .norm, .rescale, .accelerator, .axiRead: return false
    }
  }

  /// Whether the target has the accelerator's Icarus bench (`accel_tb.sv`), which the lint
  /// gates check under Verilator with the design.
  public var hasAcceleratorBench: Bool {
    if case .accelerator = self { return true }
    return false
  }

  /// Whether `hwgen lint` runs Yosys on this target: the MLGRU unit's h memory
  /// and the norm unit's vector memory map to flip-flops in Yosys' generic
  /// flow, so only tiny memories synthesize in seconds.
  public var synthesizesInLint: Bool {
    switch self {
    case .ternaryCore, .rescale: return true
    case .mlgru(let config): return config.stateDepth * config.lanes <= 1024
    case .norm(let config): return config.memoryDepth * config.lanes <= 64
    case .accelerator: return false
    case .axiRead(let config): return config.bufferBeats <= 2
    }
  }

  // MARK: - The --configs syntax

  public struct Invalid: Error, CustomStringConvertible {
    public let description: String
  }

  /// What `--configs` accepts, for help texts.
  public static let syntax = """
    comma-separated LANESxWIDTH[:REDUCTION] for the ternary core (REDUCTION popcount or adder-tree, \
    default popcount; e.g. 4x8:popcount,16x64:adder-tree), mlgru:LANESxLAYERSxHIDDEN, \
    norm:LANESxMAXLENGTH, rescale:LANESxACCUMULATORBITS for the element units (e.g. mlgru:3x3x64, \
    norm:3x8192, rescale:3x7), axi:DATABITSxBURSTxOUTSTANDING for the AXI4 read DMA (e.g. axi:512x16x4), accel:LANES[:PACKING][:sSTREAMS] for the whole accelerator on the tiny preset (PACKING planes or base3, STREAMS \
    sequences side by side; e.g. accel:16, accel:16:base3, accel:8:s2), \
    or a named set: \(RegressMatrix.sets.map(\.name).joined(separator: ", "))
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

  /// The numbers of `unit:AxBx...`, exactly `count` of them, or a one-line error showing `form`.
  static func numbers(_ item: String, prefix: String, count: Int, form: String) throws -> [Int] {
    let numbers = item.dropFirst(prefix.count).lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
    guard numbers.count == count, numbers.allSatisfy({ $0 != nil }) else {
      throw Invalid(description: "config '\(item)' is not \(form)")
    }
    return numbers.map { $0! }
  }

  /// One `LANESxWIDTH[:REDUCTION]`, `mlgru:LANESxLAYERSxHIDDEN`,
  /// `norm:LANESxMAXLENGTH` or `rescale:LANESxACCUMULATORBITS`.
  public static func parse(_ item: String) throws -> RegressTarget {
    let lowered = item.lowercased()
    if lowered.hasPrefix("mlgru:") {
      let n = try numbers(item, prefix: "mlgru:", count: 3, form: "mlgru:LANESxLAYERSxHIDDEN; e.g. mlgru:3x3x64")
      let config = MLGRUUnitConfig(lanes: n[0], maxLayers: n[1], maxHidden: n[2])
      do { try config.validate() } catch let error as MLGRUUnitConfig.Invalid {
        throw Invalid(description: "config '\(item)': \(error.description)")
      }
      return .mlgru(config)
    }
    if lowered.hasPrefix("axi:") {
      let n = try numbers(
        item, prefix: "axi:", count: 3, form: "axi:DATABITSxBURSTxOUTSTANDING; e.g. axi:512x16x4")
      let config = AXIReadMasterConfig(dataWidth: n[0], maxBurstBeats: n[1], outstanding: n[2])
      do { try config.validate() } catch let error as AXIReadMasterConfig.Invalid {
        throw Invalid(description: "config '\(item)': \(error.description)")
      }
      return .axiRead(config)
    }
    if lowered.hasPrefix("accel:") {
      // accel:LANES, then optionally :PACKING and :sSTREAMS.
      let form = "accel:LANES[:PACKING][:sSTREAMS]; e.g. accel:16, accel:16:base3 or accel:8:s2"
      let parts = lowered.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
      let (packing, streams): (WeightPacking, Int)
      do { (packing, streams) = try AcceleratorConfig.variant(parts.dropFirst(2)) } catch {
        throw Invalid(description: "config '\(item)': \(error); form \(form)")
      }
      let n = try numbers("accel:" + (parts.count > 1 ? parts[1] : ""), prefix: "accel:", count: 1, form: form)
      let config = AcceleratorConfig(lanes: n[0], weightPacking: packing, streams: streams)
      do {
        try AcceleratorGenerator.validate(config)
        try config.validate(for: .tiny)
      } catch let error as AcceleratorConfig.Invalid {
        throw Invalid(description: "config '\(item)': \(error.description)")
      }
      return .accelerator(config)
    }
    if lowered.hasPrefix("norm:") || lowered.hasPrefix("rescale:") {
      let isNorm = lowered.hasPrefix("norm:")
      let prefix = isNorm ? "norm:" : "rescale:"
      let n = try numbers(
        item, prefix: prefix, count: 2,
        form: isNorm ? "norm:LANESxMAXLENGTH; e.g. norm:3x8192" : "rescale:LANESxACCUMULATORBITS; e.g. rescale:3x7")
      let config = isNorm ? NormUnitConfig(lanes: n[0], maxLength: n[1]) : NormUnitConfig(lanes: n[0], accumulatorWidth: n[1])
      do { try config.validate() } catch let error as NormUnitConfig.Invalid {
        throw Invalid(description: "config '\(item)': \(error.description)")
      }
      return isNorm ? .norm(config) : .rescale(config)
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
  /// (adder-tree lanes); plus the default 16 x 64 in both datapaths; and
  /// MLGRU, norm and rescale units of 1, 3 and 16 lanes (tiny memories, the
  /// tests' configurations, the defaults); the accelerator with 4, 16 and 128 lanes,
  /// with base-3 weights at 2 and 16 lanes, and with 2 streams at 8 and 128 lanes and 3
  /// at 16 lanes with base-3 weights.
  public static let full: [RegressTarget] = {
    let popcount: [RegressTarget] = lanes.flatMap { l in [core(l, 1), core(l, 7), core(l, 64)] }
    let adderTree: [RegressTarget] = lanes.flatMap { l in [core(l, 3, .adderTree), core(l, 16, .adderTree)] }
    let units: [RegressTarget] = [
      mlgru(1, 2, 7), mlgru(3, 3, 64), mlgru(16, 32, 2560),
      norm(1, 4), norm(3, 8192), norm(16, 8192),
      rescale(1, 32), rescale(3, 7), rescale(16, 22),
      .accelerator(AcceleratorConfig(lanes: 4)), .accelerator(AcceleratorConfig(lanes: 16)),
      .accelerator(AcceleratorConfig(lanes: 128)),
      .accelerator(AcceleratorConfig(lanes: 2, weightPacking: .base3)),
      .accelerator(AcceleratorConfig(lanes: 16, weightPacking: .base3)),
      .accelerator(AcceleratorConfig(lanes: 8, streams: 2)),
      .accelerator(AcceleratorConfig(lanes: 16, weightPacking: .base3, streams: 3)),
      .accelerator(AcceleratorConfig(lanes: 128, streams: 2)),
      axi(512, 16, 4), axi(256, 32, 8), axi(512, 1, 1),
    ]
    return popcount + adderTree + [core(16, 64, .adderTree)] + units
  }()

  static func norm(_ lanes: Int, _ maxLength: Int) -> RegressTarget {
    .norm(NormUnitConfig(lanes: lanes, maxLength: maxLength))
  }

  static func rescale(_ lanes: Int, _ bits: Int) -> RegressTarget {
    .rescale(NormUnitConfig(lanes: lanes, accumulatorWidth: bits))
  }

  static func axi(_ dataWidth: Int, _ burst: Int, _ outstanding: Int) -> RegressTarget {
    .axiRead(AXIReadMasterConfig(dataWidth: dataWidth, maxBurstBeats: burst, outstanding: outstanding))
  }

  static func mlgru(_ lanes: Int, _ layers: Int, _ hidden: Int) -> RegressTarget {
    .mlgru(MLGRUUnitConfig(lanes: lanes, maxLayers: layers, maxHidden: hidden))
  }

  /// The slice `make test` runs: the configurations the core tests already
  /// build (cached), one more in each datapath, and an element unit of each
  /// kind that its own tests build.
  public static let quick: [RegressTarget] = [
    core(1, 1), core(3, 5), core(8, 16), core(16, 64), core(4, 7, .adderTree), core(2, 3, .adderTree),
    mlgru(1, 2, 7), norm(3, 8192), rescale(3, 7), .accelerator(AcceleratorConfig(lanes: 16)),
    .accelerator(AcceleratorConfig(lanes: 16, weightPacking: .base3)),
    .accelerator(AcceleratorConfig(lanes: 8, streams: 2)),
  ]

  public static let sets: [NamedSet] = [
    NamedSet(
      name: "full", targets: full,
      summary: "cores of lanes 1-32 with widths 1/7/64 popcount and 3/16 adder-tree, 16x64 adder-tree; MLGRU, norm and rescale units of 1, 3 and 16 lanes; the accelerator with 4, 16 and 128 lanes, with base-3 weights at 2 and 16, with 2 streams at 8 and 128 lanes and 3 at 16 (base 3); the AXI4 read DMA at 512 and 256 bits"),
    NamedSet(name: "quick", targets: quick, summary: "the make test slice"),
  ]

  public static func set(named name: String) -> NamedSet? { sets.first { $0.name == name } }
}
