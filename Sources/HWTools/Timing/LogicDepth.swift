import Foundation
import HWSupport

/// The longest register-to-register path of a synthesized, flattened design,
/// counted in LUT levels, and its longest carry chain. Found by a walk over
/// Yosys's JSON netlist (`write_json` after `flatten`) rather than Yosys's
/// `ltp`: `ltp` counts every cell alike (a CARRY8 or an ALUT_ARITH bit is one
/// "level" like a LUT) and names no endpoints, where the walk weighs LUTs and
/// carry cells apart and reports which register feeds which.
///
/// Sequential and hard cells (flip-flops, block RAM, DSP, LUT RAM) cut paths:
/// their outputs start one, their inputs end one. A DSP or block RAM used
/// without its internal registers is therefore counted as a register, which
/// under-counts paths through it; the ECP5 place-and-route result has no such
/// simplification.
public struct LogicDepth: Codable, Sendable, Hashable {
  /// LUTs (and wide-function muxes: MUXF7/F8/F9, PFUMX/L6MUX21) on the deepest path.
  public let levels: Int
  /// Carry cells passed on that path (not counted in `levels`).
  public let carryCellsOnPath: Int
  /// The register (its output net) the deepest path starts at, and the one it ends at.
  public let from: String
  public let to: String
  /// The longest chain of carry cells linked carry-out to carry-in, in bits.
  public let carryChainBits: Int

  public init(levels: Int, carryCellsOnPath: Int, from: String, to: String, carryChainBits: Int) {
    self.levels = levels
    self.carryCellsOnPath = carryCellsOnPath
    self.from = from
    self.to = to
    self.carryChainBits = carryChainBits
  }
}

/// How a family's cells count on a path.
public struct CellLibrary: Sendable {
  public enum Role: Sendable, Equatable { case level, carry(bits: Int), pass }
  /// Cell type -> role; any other cell type cuts paths (a register or a hard block).
  let roles: [String: Role]
  /// The carry-in port of the carry cells.
  let carryIn: String

  public static let ultraScalePlus = CellLibrary(
    roles: Dictionary(uniqueKeysWithValues: ["LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6", "MUXF7", "MUXF8", "MUXF9"].map { ($0, Role.level) })
      .merging(["CARRY4": .carry(bits: 4), "CARRY8": .carry(bits: 8), "INV": .level, "BUF": .pass]) { a, _ in a },
    carryIn: "CI")

  public static let intelALM = CellLibrary(
    roles: Dictionary(uniqueKeysWithValues: ["MISTRAL_ALUT2", "MISTRAL_ALUT3", "MISTRAL_ALUT4", "MISTRAL_ALUT5", "MISTRAL_ALUT6", "MISTRAL_NOT"].map { ($0, Role.level) })
      .merging(["MISTRAL_ALUT_ARITH": .carry(bits: 1), "MISTRAL_BUF": .pass]) { a, _ in a },
    carryIn: "CI")

  public static let ecp5 = CellLibrary(
    roles: ["LUT4": .level, "PFUMX": .level, "L6MUX21": .level, "CCU2C": .carry(bits: 2)],
    carryIn: "CIN")

  func role(_ type: String) -> Role? { roles[type] }
}

extension LogicDepth {
  /// Names this walk in cache keys: a change to how it counts must change it.
  public static let method = "register-to-register walk 2 (LUT and mux levels; carry chains in bits)"

  /// The depth of module `top` in a Yosys JSON netlist.
  public static func of(netlist data: Data, top: String, library: CellLibrary) throws -> LogicDepth {
    let graph = try NetlistGraph(json: data, top: top, library: library)
    return try graph.depth()
  }
}

/// The flattened top module as cells over bits: who drives each bit, and
/// which cells read it.
struct NetlistGraph {
  struct Cell {
    let role: CellLibrary.Role?
    let inputs: [Int]
    let outputs: [Int]
    let carryIn: [Int]
  }

  let cells: [Cell]
  let library: CellLibrary
  /// Bit -> the cell driving it.
  var driver: [Int: Int] = [:]
  /// Bit -> a readable name (the first public net holding it, with its index).
  var names: [Int: String] = [:]

  init(json data: Data, top: String, library: CellLibrary) throws {
    self.library = library
    guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let modules = root["modules"] as? [String: Any]
    else { throw ToolError("the Yosys netlist is not JSON with a modules object") }
    guard let module = modules[top] as? [String: Any] else { throw ToolError("the Yosys netlist has no module \(top)") }
    let rawCells = (module["cells"] as? [String: Any]) ?? [:]
    var cells: [Cell] = []
    for name in rawCells.keys.sorted() {
      guard let cell = rawCells[name] as? [String: Any], let type = cell["type"] as? String else { continue }
      let directions = (cell["port_directions"] as? [String: String]) ?? [:]
      let connections = (cell["connections"] as? [String: [Any]]) ?? [:]
      var inputs: [Int] = [], outputs: [Int] = [], carryIn: [Int] = []
      for port in connections.keys.sorted() {
        let bits = connections[port]!.compactMap { $0 as? Int }
        if directions[port] == "output" { outputs += bits } else { inputs += bits }
        if port == library.carryIn { carryIn += bits }
      }
      cells.append(Cell(role: library.role(type), inputs: inputs, outputs: outputs, carryIn: carryIn))
    }
    self.cells = cells
    for (index, cell) in cells.enumerated() { for bit in cell.outputs { driver[bit] = index } }
    let netnames = (module["netnames"] as? [String: Any]) ?? [:]
    for name in netnames.keys.sorted() {
      guard let net = netnames[name] as? [String: Any], (net["hide_name"] as? Int) != 1,
        let bits = net["bits"] as? [Any]
      else { continue }
      for (i, bit) in bits.enumerated() {
        guard let bit = bit as? Int, names[bit] == nil else { continue }
        names[bit] = bits.count == 1 ? name : "\(name)[\(i)]"
      }
    }
  }

  /// Per combinational cell, in topological order: the deepest path reaching
  /// its output (levels, carry cells, the register it starts at) and its
  /// carry chain; then the deepest path into any register.
  func depth() throws -> LogicDepth {
    struct Arrival { var levels = 0, carries = 0, start = -1 }
    let order = try topologicalOrder()
    var arrival = [Arrival](repeating: Arrival(), count: cells.count)
    var chain = [Int](repeating: 0, count: cells.count)
    func reaching(_ bit: Int) -> Arrival {
      guard let d = driver[bit] else { return Arrival() }
      return cells[d].role == nil ? Arrival(levels: 0, carries: 0, start: bit) : arrival[d]
    }
    for index in order {
      let cell = cells[index]
      var best = Arrival()
      for bit in cell.inputs {
        let a = reaching(bit)
        if a.levels > best.levels || (a.levels == best.levels && a.carries > best.carries) || best.start < 0 { best = a }
      }
      if cell.role == .level { best.levels += 1 }
      if case .carry(let bits) = cell.role {
        best.carries += 1
        let previous = cell.carryIn.compactMap { driver[$0] }.filter { chain[$0] > 0 }.map { chain[$0] }.max() ?? 0
        chain[index] = previous + bits
      }
      arrival[index] = best
    }
    var deepest = Arrival(), end = -1
    for cell in cells where cell.role == nil {
      for bit in cell.inputs {
        let a = reaching(bit)
        guard a.start >= 0, a.levels > deepest.levels || end < 0 else { continue }
        deepest = a
        end = cell.outputs.first.flatMap { names[$0] == nil ? nil : $0 } ?? bit
      }
    }
    return LogicDepth(
      levels: deepest.levels, carryCellsOnPath: deepest.carries, from: name(deepest.start), to: name(end),
      carryChainBits: chain.max() ?? 0)
  }

  func name(_ bit: Int) -> String { bit < 0 ? "-" : names[bit] ?? "bit \(bit)" }

  /// The combinational cells, each after every combinational cell it reads.
  func topologicalOrder() throws -> [Int] {
    let combinational = cells.indices.filter { cells[$0].role != nil }
    var pending = [Int](repeating: 0, count: cells.count)
    var readers: [Int: [Int]] = [:]
    for index in combinational {
      for bit in Set(cells[index].inputs) {
        guard let d = driver[bit], cells[d].role != nil else { continue }
        pending[index] += 1
        readers[d, default: []].append(index)
      }
    }
    var ready = combinational.filter { pending[$0] == 0 }
    var order: [Int] = []
    order.reserveCapacity(combinational.count)
    while let next = ready.popLast() {
      order.append(next)
      for reader in readers[next] ?? [] {
        pending[reader] -= 1
        if pending[reader] == 0 { ready.append(reader) }
      }
    }
    guard order.count == combinational.count else {
      throw ToolError("the netlist has a combinational loop through \(combinational.count - order.count) cells")
    }
    return order
  }
}
