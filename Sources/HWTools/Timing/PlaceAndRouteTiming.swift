import Foundation
import HWSupport

/// What nextpnr-ecp5's `--report` says about one placed and routed design:
/// the Fmax of every clock, the critical path of the slowest one, and the
/// share of the device used.
public struct PlaceAndRouteTiming: Codable, Sendable, Hashable {
  public struct Clock: Codable, Sendable, Hashable {
    public let name: String
    public let fmaxMHz: Double
    public let constraintMHz: Double
  }

  public struct CriticalPath: Codable, Sendable, Hashable {
    public let clock: String
    /// The cell (and port) the path starts at and the one it ends at.
    public let from: String
    public let to: String
    public let delayNs: Double
    public let logicNs: Double
    public let routingNs: Double
    /// Logic cells passed (LUTs, carry and mux stages).
    public let logicCells: Int
    /// The nets of the path in order, at most `maxNets` (first and last kept).
    public let through: [String]
  }

  public struct Use: Codable, Sendable, Hashable {
    public let resource: String
    public let used: Int
    public let available: Int

    public init(resource: String, used: Int, available: Int) {
      self.resource = resource
      self.used = used
      self.available = available
    }
  }

  /// Clocks by name; a design with no clocked path has none.
  public let clocks: [Clock]
  public let critical: CriticalPath?
  /// The resources used (those with a nonzero count), by name.
  public let utilization: [Use]

  /// The slowest clock's Fmax.
  public var fmaxMHz: Double? { clocks.map(\.fmaxMHz).min() }

  static let maxNets = 8

  /// A JSON number as a Double (JSONSerialization gives NSNumber for both kinds).
  static func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

  /// Parses nextpnr's JSON report (`--report`).
  public init(report data: Data) throws {
    guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw ToolError("the nextpnr report is not a JSON object")
    }
    let fmax = (root["fmax"] as? [String: Any]) ?? [:]
    let number = Self.number
    clocks = fmax.keys.sorted().compactMap { name in
      guard let entry = fmax[name] as? [String: Any], let achieved = number(entry["achieved"]) else { return nil }
      return Clock(name: name, fmaxMHz: achieved, constraintMHz: number(entry["constraint"]) ?? 0)
    }
    let use = (root["utilization"] as? [String: Any]) ?? [:]
    utilization = use.keys.sorted().compactMap { name in
      guard let entry = use[name] as? [String: Any], let used = number(entry["used"]).map({ Int($0) }), used > 0 else { return nil }
      return Use(resource: name, used: used, available: number(entry["available"]).map { Int($0) } ?? 0)
    }
    let paths = (root["critical_paths"] as? [[String: Any]]) ?? []
    let slowest = clocks.min { $0.fmaxMHz < $1.fmaxMHz }?.name
    let chosen = paths.first { ($0["from"] as? String)?.hasSuffix(" \(slowest ?? "")") == true && $0["from"] as? String == $0["to"] as? String }
      ?? paths.first
    critical = chosen.map(Self.criticalPath)
  }

  static func criticalPath(_ path: [String: Any]) -> CriticalPath {
    let segments = (path["path"] as? [[String: Any]]) ?? []
    func endpoint(_ segment: [String: Any]?, _ side: String) -> String {
      guard let point = segment?[side] as? [String: Any], let cell = point["cell"] as? String else { return "-" }
      return (point["port"] as? String).map { "\(cell).\($0)" } ?? cell
    }
    let number = Self.number
    var logic = 0.0, routing = 0.0, cells = 0
    var nets: [String] = []
    for segment in segments {
      let delay = number(segment["delay"]) ?? 0
      switch segment["type"] as? String {
      case "routing":
        routing += delay
        if let net = segment["net"] as? String { nets.append(net) }
      case "logic":
        logic += delay
        cells += 1
      default: logic += delay
      }
    }
    let through = nets.count <= maxNets ? nets : Array(nets.prefix(maxNets - 1)) + [nets.last!]
    return CriticalPath(
      clock: ((path["from"] as? String) ?? "").replacingOccurrences(of: "posedge ", with: ""),
      from: endpoint(segments.first, "from"), to: endpoint(segments.last, "to"), delayNs: logic + routing,
      logicNs: logic, routingNs: routing, logicCells: cells, through: through)
  }
}
