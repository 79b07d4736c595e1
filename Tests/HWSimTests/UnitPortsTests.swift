import HWDSL
@testable import HWGenerators
import HWSpec
import Testing

/// The top connects its units through typed bundles; each bundle's table must
/// be the port list the unit's generator declares, port for port.
@Suite("Unit port bundles match the units' modules")
struct UnitPortsTests {
  struct Row: Equatable, CustomStringConvertible {
    let name: String
    let input: Bool
    let type: HWType
    let comment: String?
    var description: String { "\(input ? "input" : "output") \(type) \(name) // \(comment ?? "")" }
  }

  static func rows<B: PortBundle>(_ bundle: B.Type, _ config: B.Config) -> [Row] {
    B.ports(config).map { spec in
      Row(name: spec.portName, input: spec.direction != .output, type: spec.type, comment: spec.comment)
    }
  }

  static func rows(_ module: Module) -> [Row] {
    module.ports.map { Row(name: $0.name, input: $0.kind == .input, type: $0.type, comment: $0.comment) }
  }

  /// The default core, a narrow one and one wider than the 64 element lanes.
  static let configs = [AcceleratorConfig(), AcceleratorConfig(lanes: 4), AcceleratorConfig(lanes: 128)]

  @Test(arguments: configs) func everyBundleIsItsUnitsPortList(_ config: AcceleratorConfig) throws {
    let norm = try NormUnitGenerator.generate(config.norm).top
    #expect(Self.rows(NormUnitBundle.self, config.norm) == Self.rows(norm))
    let mlgru = try MLGRUUnitGenerator.generate(config.mlgru).top
    #expect(Self.rows(MLGRUUnitBundle.self, config.mlgru) == Self.rows(mlgru))
    let vectorConfig = VectorUnitConfig(lanes: config.elementLanes)
    let vector = try VectorUnitGenerator.generate(vectorConfig).top
    #expect(Self.rows(VectorUnitBundle.self, vectorConfig) == Self.rows(vector))
    let fifoConfig = AcceleratorGenerator.weightFIFO(config)
    let fifo = try StreamFIFOGenerator.generate(fifoConfig).top
    #expect(Self.rows(StreamFIFOBundle.self, fifoConfig) == Self.rows(fifo))
    let datapath = try MatVecDatapathGenerator.generate(config).top
    #expect(Self.rows(MatVecDatapathBundle.self, config) == Self.rows(datapath))
  }

  /// Every stream into and out of the units that can stall carries the valid/ready assertion.
  @Test func theTopAssertsEveryUnitStreamThatCanStall() throws {
    let top = try AcceleratorGenerator.generate(AcceleratorConfig()).top
    let streams = [
      "NormX", "NormG", "NormY", "MLGRUIn", "MLGRUOut", "VectorIn", "VectorOut", "WeightFIFOIn", "WeightFIFOOut",
      "MatVecW", "MatVecA",
    ]
    let names = top.assertions.map(\.name)
    #expect(names.filter { $0.hasSuffix("ValidReady") } == streams.map { $0 + "ValidReady" })
    for a in top.assertions where a.name.hasSuffix("ValidReady") {
      guard case .stable = a.check else {
        Issue.record("\(a.name) is not a stability assertion")
        continue
      }
    }
  }
}
