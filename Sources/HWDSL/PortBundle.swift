/// A unit's interface as a Swift type: one stored `Expr` field per port, and
/// one table (`ports(_:)`) giving each field its port name, direction, type
/// and comment, in the order the module declares them. The child declares its
/// ports from the table (`ModuleBuilder.ports`); the parent fills the fields it
/// connects through the memberwise initializer, with labels the compiler
/// checks, and instantiates from the value (`ModuleBuilder.instance(_:_:_:_:)`):
///
///     struct FIFOPorts: PortBundle {
///       var clk = Expr.unconnected, inValid = Expr.unconnected, ...
///       static func ports(_ width: Int) -> [PortSpec<Self>] {
///         [.clock(\.clk), .input("in_valid", .bit, \.inValid), ...]
///       }
///     }
///     m.instance(fifo, "u_fifo", FIFOPorts(clk: clk, inValid: v, ...), 8)
///
/// The printed text is what the string list of connections printed: the
/// bundle only lowers to it. A field left `unconnected`, a port listed twice
/// or a width the child's port does not have is reported at the parent's
/// `instance` line by `finish()`.
public protocol PortBundle {
  /// What the widths depend on (a unit's configuration, or `Void`).
  associatedtype Config
  /// Every port, in declaration order.
  static func ports(_ config: Config) -> [PortSpec<Self>]
  /// Every field `Expr.unconnected`.
  init()
}

/// One port of a `PortBundle`: the field it is, and how the child declares it.
public struct PortSpec<Bundle> {
  public enum Direction: Hashable, Sendable { case clock, reset, input, output }

  /// The name without its direction suffix (`x_valid`); `clk`/`rst_n` for the two.
  public let name: String
  public let direction: Direction
  public let type: HWType
  public let comment: String?
  public let field: WritableKeyPath<Bundle, Expr>

  /// The printed port name, as `ModuleBuilder.input`/`output`/`clock`/`reset` name it.
  public var portName: String {
    switch direction {
    case .clock: return "clk_i"
    case .reset: return "rst_ni"
    case .input: return name + "_i"
    case .output: return name + "_o"
    }
  }

  public static func clock(_ field: WritableKeyPath<Bundle, Expr>) -> PortSpec {
    PortSpec(name: "clk", direction: .clock, type: .bit, comment: nil, field: field)
  }

  public static func reset(_ field: WritableKeyPath<Bundle, Expr>) -> PortSpec {
    PortSpec(name: "rst_n", direction: .reset, type: .bit, comment: nil, field: field)
  }

  public static func input(
    _ name: String, _ type: HWType, _ field: WritableKeyPath<Bundle, Expr>, comment: String? = nil
  ) -> PortSpec {
    PortSpec(name: name, direction: .input, type: type, comment: comment, field: field)
  }

  public static func output(
    _ name: String, _ type: HWType, _ field: WritableKeyPath<Bundle, Expr>, comment: String? = nil
  ) -> PortSpec {
    PortSpec(name: name, direction: .output, type: type, comment: comment, field: field)
  }
}

extension Expr {
  /// A bundle field nobody set: `instance` leaves its port out, so `finish()`
  /// reports it as not connected.
  public static let unconnected = Expr(.parameter("<unconnected>"), .uint(0))
}

extension PortBundle where Config == Void {
  public static var ports: [PortSpec<Self>] { ports(()) }
}

extension ModuleBuilder {
  /// Declares `B`'s ports in this module, in table order, and returns them as a
  /// bundle: inputs to read, outputs to assign.
  public func ports<B: PortBundle>(
    _ bundle: B.Type, _ config: B.Config, file: StaticString = #fileID, line: UInt = #line
  ) -> B {
    var value = B()
    var declared: Set<PartialKeyPath<B>> = []
    for spec in B.ports(config) {
      if !declared.insert(spec.field).inserted {
        reportStructure("\(B.self) declares port \(spec.portName) on a field it already declared", file, line)
      }
      switch spec.direction {
      case .clock: value[keyPath: spec.field] = clock(file: file, line: line)
      case .reset: value[keyPath: spec.field] = reset(file: file, line: line)
      case .input:
        value[keyPath: spec.field] = input(spec.name, spec.type, comment: spec.comment, file: file, line: line)
      case .output:
        value[keyPath: spec.field] = output(spec.name, spec.type, comment: spec.comment, file: file, line: line)
      }
    }
    return value
  }

  /// Instantiates `module` as `name`, connecting every set field of `bundle`
  /// to its port (in table order). Unset fields stay out, and `finish()`
  /// reports their ports as not connected, at this line.
  public func instance<B: PortBundle>(
    _ module: Module, _ name: String, _ bundle: B, _ config: B.Config, file: StaticString = #fileID, line: UInt = #line
  ) {
    let connections = B.ports(config).compactMap { spec -> (String, Expr)? in
      let expr = bundle[keyPath: spec.field]
      return expr == .unconnected ? nil : (spec.portName, expr)
    }
    instance(module, name, connections, file: file, line: line)
  }
}

extension ModuleBuilder {
  /// Instantiates with a bundle of a configuration-free interface.
  public func instance<B: PortBundle>(
    _ module: Module, _ name: String, _ bundle: B, file: StaticString = #fileID, line: UInt = #line
  ) where B.Config == Void {
    instance(module, name, bundle, (), file: file, line: line)
  }
}
