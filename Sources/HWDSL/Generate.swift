/// Replication: a `for (genvar ...)` loop of identical instances.
///
/// A loop is `count` copies of one body: per-iteration wires (declared inside
/// the generate block) and instances whose ports connect to
/// - a value shared by every iteration (`LoopValue.shared`, a broadcast),
/// - iteration i's `width` bits of a packed parent vector
///   (`LoopValue.slice`, printed `vec[i*W +: W]`), or
/// - a per-iteration wire (`LoopValue.local`).
///
/// The checks (`DesignChecks`) read a loop as its unrolled form: each sliced
/// vector must be tiled exactly by the iterations, an output slice drives its
/// whole vector (once), inputs are read, and the child's combinational paths
/// connect the vectors an iteration reads to the vector it drives.

/// A value inside a generate loop.
public indirect enum LoopValue: Hashable, Sendable {
  /// The same parent expression in every iteration.
  case shared(Expr)
  /// Iteration i's bits `[i*width +: width]` of a parent signal.
  case slice(Expr, width: Int)
  /// A per-iteration wire of the loop, by index.
  case local(Int, HWType)
  /// `$signed(...)` / `$unsigned(...)` of a value.
  case reinterpret(LoopValue, signed: Bool)

  public var type: HWType {
    switch self {
    case .shared(let e): return e.type
    case .slice(_, let width): return .uint(width)
    case .local(_, let type): return type
    case .reinterpret(let v, let signed): return HWType(width: v.type.width, signed: signed)
    }
  }

  public var asSigned: LoopValue { .reinterpret(self, signed: true) }
  public var asUnsigned: LoopValue { .reinterpret(self, signed: false) }
}

/// Anything a loop port can connect to: a parent expression is a broadcast.
public protocol LoopValueConvertible {
  var loopValue: LoopValue { get }
}

extension LoopValue: LoopValueConvertible {
  public var loopValue: LoopValue { self }
}

extension Expr: LoopValueConvertible {
  public var loopValue: LoopValue { .shared(self) }
}

/// A wire declared inside the generate block, driven by a continuous
/// assignment of `value`, or by an instance output when `value` is nil.
public struct LoopWire: Hashable, Sendable {
  public let name: String
  public let type: HWType
  public let value: LoopValue?
  public let location: SourceLocation
}

/// `assign vector[i*W +: W] = value;` inside the block: how a signed
/// instance output reaches an (unsigned) packed vector without a signedness
/// conversion at the port.
public struct LoopAssign: Hashable, Sendable {
  public let vector: Expr
  public let width: Int
  public let value: LoopValue
  public let location: SourceLocation
}

public struct LoopInstance: Hashable, Sendable {
  public let name: String
  public let module: Module
  public let connections: [LoopConnection]
  public let location: SourceLocation
}

public struct LoopConnection: Hashable, Sendable {
  public let port: String
  public let value: LoopValue
}

/// `for (genvar <genvar> = 0; <genvar> < count; <genvar>++) begin : <label>`.
public struct GenerateLoop: Hashable, Sendable {
  public let label: String
  public let genvar: String
  public let count: Int
  public let wires: [LoopWire]
  public let assigns: [LoopAssign]
  public let instances: [LoopInstance]
  public let location: SourceLocation
  /// The count's expression in a parameterized module (`Lanes`).
  public var symbolicCount: ParamExpr? = nil
}

/// Builds one generate loop's body (see `ModuleBuilder.generate`).
public final class GenerateBuilder {
  public let count: Int
  private let parent: ModuleBuilder
  private let label: String
  fileprivate var wires: [LoopWire] = []
  fileprivate var assigns: [LoopAssign] = []
  fileprivate var instances: [LoopInstance] = []

  fileprivate init(parent: ModuleBuilder, label: String, count: Int) {
    self.parent = parent
    self.label = label
    self.count = count
  }

  /// Iteration i's `width` bits of `vector` (by default `vector.width / count`).
  public func slice(_ vector: Expr, width: Int? = nil) -> LoopValue {
    .slice(vector, width: width ?? vector.width / count)
  }

  /// A wire declared inside the loop body.
  public func wire(_ name: String, _ value: LoopValueConvertible, file: StaticString = #fileID, line: UInt = #line) -> LoopValue {
    let value = value.loopValue
    wires.append(LoopWire(name: name, type: value.type, value: value, location: SourceLocation(file, line)))
    return .local(wires.count - 1, value.type)
  }

  /// One instance per iteration, named `name` inside the block (`gen_lane[3].u_lane`).
  ///
  /// A shared input driven by a computed expression is routed through a
  /// parent wire named after the loop and port, as `ModuleBuilder.instance`
  /// does for Yosys 0.23. A signed output connected to a slice goes through
  /// a wire of the block named after the port (`result`), assigned to the
  /// slice with `$unsigned`: a slice is unsigned, and slang warns about the
  /// signedness conversion a direct connection would make.
  public func instance(
    _ module: Module, _ name: String, _ connections: [(String, LoopValueConvertible)],
    file: StaticString = #fileID, line: UInt = #line
  ) {
    let routed = connections.map { port, convertible -> LoopConnection in
      let value = convertible.loopValue
      let base = port.hasSuffix("_i") || port.hasSuffix("_o") ? String(port.dropLast(2)) : port
      if let p = module.port(named: port), p.kind == .output, p.type.signed, case .slice(let vector, let width) = value {
        wires.append(LoopWire(name: base, type: p.type, value: nil, location: SourceLocation(file, line)))
        let local = LoopValue.local(wires.count - 1, p.type)
        assigns.append(LoopAssign(vector: vector, width: width, value: local.asUnsigned, location: SourceLocation(file, line)))
        return LoopConnection(port: port, value: local)
      }
      guard module.port(named: port)?.kind == .input, case .shared(let expr) = value else {
        return LoopConnection(port: port, value: value)
      }
      switch expr.node {
      case .signal, .slice, .literal, .concat, .parameter: return LoopConnection(port: port, value: value)
      default:
        let wire = parent.wire("\(label.hasPrefix("gen_") ? String(label.dropFirst(4)) : label)_\(base)", expr, file: file, line: line)
        return LoopConnection(port: port, value: .shared(wire))
      }
    }
    instances.append(LoopInstance(name: name, module: module, connections: routed, location: SourceLocation(file, line)))
  }
}

extension ModuleBuilder {
  /// `count` copies of `body`, printed as one `for (genvar i ...) begin : label`
  /// loop. Outputs connect to slices of parent wires (`lane.slice(results)`),
  /// which the loop then drives whole.
  public func generate(
    _ label: String, count: Int, genvar: String = "i", file: StaticString = #fileID, line: UInt = #line,
    _ body: (GenerateBuilder) -> Void
  ) {
    generate(label, count: ParamExpr.constant(count), genvar: genvar, file: file, line: line, body)
  }

  /// A loop counted by a parameter expression (`i < Lanes`), elaborated at its value.
  public func generate(
    _ label: String, count: ParamExpr, genvar: String = "i", file: StaticString = #fileID, line: UInt = #line,
    _ body: (GenerateBuilder) -> Void
  ) {
    let g = GenerateBuilder(parent: self, label: label, count: count.value)
    body(g)
    var loop = GenerateLoop(
      label: label, genvar: genvar, count: count.value, wires: g.wires, assigns: g.assigns, instances: g.instances,
      location: SourceLocation(file, line))
    if count.isSymbolic { loop.symbolicCount = count }
    addGenerateLoop(loop)
  }
}
