/// The value-type IR every generator builds and every pass reads.
///
/// A module owns a table of signals indexed by `SignalID`; expressions and
/// statements refer to signals by ID, so names can be legalized late without
/// rewriting the tree. Widths are elaborated in Swift: every check runs on
/// numbers. A parameterized module also carries, next to each number that
/// depends on a parameter, its expression (`ParamExpr`), which is what prints.

public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
  public let file: String
  public let line: Int
  public init(file: String, line: Int) {
    self.file = file
    self.line = line
  }
  public init(_ file: StaticString, _ line: UInt) {
    self.file = "\(file)"
    self.line = Int(line)
  }
  public var description: String { "\(file):\(line)" }
}

/// Width and signedness of a value. Every operation is strictly typed: the
/// builder never widens silently, so the printed RTL has no implicit extension
/// for a linter to warn about.
///
/// `symbolicWidth` is how a parameterized module spells the width
/// (`Width`, `AddrWidth`); it is text only, so types compare by their numbers.
public struct HWType: Hashable, Sendable, CustomStringConvertible {
  public let width: Int
  public let signed: Bool
  public let symbolicWidth: ParamExpr?
  public init(width: Int, signed: Bool = false) {
    self.width = width
    self.signed = signed
    symbolicWidth = nil
  }
  /// A type `width` wide, printed by its expression when that names a parameter.
  public init(width: ParamValue, signed: Bool = false) {
    let w = width.paramExpr
    self.width = w.value
    self.signed = signed
    symbolicWidth = w.isSymbolic ? w : nil
  }
  public static let bit = HWType(width: 1)
  public static func uint(_ width: Int) -> HWType { HWType(width: width, signed: false) }
  public static func sint(_ width: Int) -> HWType { HWType(width: width, signed: true) }
  public static func uint(_ width: ParamExpr) -> HWType { HWType(width: width, signed: false) }
  public static func sint(_ width: ParamExpr) -> HWType { HWType(width: width, signed: true) }
  public static func == (a: HWType, b: HWType) -> Bool { a.width == b.width && a.signed == b.signed }
  public func hash(into h: inout Hasher) {
    h.combine(width)
    h.combine(signed)
  }
  public var description: String { "\(signed ? "signed " : "")\(width)-bit" }
  /// The same width, unsigned.
  public var asUnsigned: HWType { symbolicWidth.map { HWType(width: $0) } ?? .uint(width) }
}

public struct SignalID: Hashable, Sendable, Comparable {
  public let index: Int
  public static func < (a: SignalID, b: SignalID) -> Bool { a.index < b.index }
}

public enum SignalKind: Hashable, Sendable {
  case input
  case output
  case wire
  /// The next-state half of a register (`name_d`), assigned combinationally.
  case registerNext
  /// The state half of a register (`name_q`), driven by its `always_ff`.
  case registerState
}

public struct Signal: Hashable, Sendable {
  public let id: SignalID
  /// The name the generator asked for, with any `_i`/`_o`/`_d`/`_q` suffix.
  public let name: String
  public let type: HWType
  public let kind: SignalKind
  public let comment: String?
  public let location: SourceLocation
  /// The enum the signal holds (printed as its type), or nil for plain `logic`.
  public var enumType: EnumType? = nil
}

public enum ResetStyle: Hashable, Sendable {
  /// `always_ff @(posedge clk_i or negedge rst_ni)`.
  case asynchronous
  /// `always_ff @(posedge clk_i)` with the reset tested inside.
  case synchronous
  /// No reset: datapath registers whose value is qualified by a valid bit.
  case none
}

public struct Register: Hashable, Sendable {
  public let next: SignalID
  public let state: SignalID
  public let reset: ResetStyle
  /// Reset value, two's complement in the register's width.
  public let resetValue: Literal
  public let location: SourceLocation
}

/// `parameter logic [31:0] Name = value`, or, with `derivation`, a
/// `localparam` computed from the parameters (`AddrWidth = $clog2(Depth)`).
public struct Parameter: Hashable, Sendable {
  public let name: String
  public let value: Int
  public var derivation: ParamExpr? = nil
  public let location: SourceLocation

  /// The parameter as an expression of itself.
  public var expr: ParamExpr { .parameter(name, value) }
  /// An instance overrides it (a localparam it cannot).
  public var isOverridable: Bool { derivation == nil }
}

/// A literal bit pattern of any width, stored as little-endian 64-bit words.
public struct Literal: Hashable, Sendable {
  public let words: [UInt64]
  public let type: HWType
  /// Set for a value of an enum (`EnumType.literal`): printed by its name.
  public var enumType: EnumType? = nil
  /// Set for a value computed from parameters (`Depth - 1`): printed as
  /// that expression cast to the type's width.
  public var symbolicValue: ParamExpr? = nil
  /// Set for a named constant of the module (`ModuleBuilder.constant`):
  /// printed by its name (`AddrCtrl`), declared once as a `localparam`.
  public var constantName: String? = nil

  public init(_ value: Int, _ type: HWType) {
    let wordCount = (type.width + 63) / 64
    var words = [UInt64](repeating: value < 0 ? ~0 : 0, count: wordCount)
    words[0] = UInt64(bitPattern: Int64(value))
    self.init(words: words, type: type)
  }

  public init(words: [UInt64], type: HWType) {
    var masked = words
    let count = (type.width + 63) / 64
    if masked.count < count { masked += [UInt64](repeating: 0, count: count - masked.count) }
    masked = Array(masked.prefix(count))
    let topBits = type.width % 64
    if topBits != 0 { masked[count - 1] &= (UInt64(1) << UInt64(topBits)) - 1 }
    self.words = masked
    self.type = type
  }

  public var isZero: Bool { words.allSatisfy { $0 == 0 } }
  public var isAllOnes: Bool { Literal(words: words.map { ~$0 }, type: type).isZero }

  /// Whether `value` fits the type without truncation.
  public static func fits(_ value: Int, _ type: HWType) -> Bool {
    if type.width >= 64 { return type.signed || value >= 0 }
    if type.signed {
      let bound = 1 << (type.width - 1)
      return value >= -bound && value < bound
    }
    return value >= 0 && value < (1 << type.width)
  }
}

public enum UnaryOp: String, Hashable, Sendable {
  case not = "~"
  case negate = "-"
  case logicalNot = "!"
  case reduceAnd = "&"
  case reduceOr = "|"
  case reduceXor = "^"
}

public enum BinaryOp: String, Hashable, Sendable {
  case add = "+", sub = "-", mul = "*"
  case and = "&", or = "|", xor = "^"
  case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
  case logicalAnd = "&&", logicalOr = "||"

  public var isComparison: Bool { [.eq, .ne, .lt, .le, .gt, .ge].contains(self) }
  public var isLogical: Bool { self == .logicalAnd || self == .logicalOr }
}

public enum ShiftOp: String, Hashable, Sendable {
  case left = "<<"
  case rightLogical = ">>"
  case rightArithmetic = ">>>"
}

/// An expression with its type computed at construction. Operand type rules
/// are checked by the width pass, which reports the statement's source line.
public struct Expr: Hashable, Sendable {
  public indirect enum Node: Hashable, Sendable {
    case signal(SignalID)
    case parameter(String)
    case literal(Literal)
    case unary(UnaryOp, Expr)
    case binary(BinaryOp, Expr, Expr)
    /// Shift by a constant amount.
    case shift(ShiftOp, Expr, Int)
    case slice(Expr, high: Int, low: Int)
    case concat([Expr])
    case replicate(Int, Expr)
    case mux(Expr, Expr, Expr)
    /// Reinterpret the bits as signed or unsigned (`$signed` / `$unsigned`).
    case reinterpret(Expr, signed: Bool)
    /// Sign- or zero-extend (by the operand's signedness) to a wider width.
    case extend(Expr, width: Int)
    case memoryRead(MemoryID, Expr)
    /// Number of set bits (`$countones`), as an unsigned value just wide enough.
    case countOnes(Expr)
  }

  public let node: Node
  public let type: HWType
  /// For a `.slice`: named constants for its bounds, printed as
  /// `x[Lsb +: Width]` (see `Expr.field`). The bits are the slice's.
  public var sliceNames: SliceNames? = nil

  public init(_ node: Node, _ type: HWType) {
    self.node = node
    self.type = type
  }

  public var width: Int { type.width }
  public var signed: Bool { type.signed }
}

/// The names of a slice's low bit and width (package constants such as
/// `mmfree_pkg::InstrOpcodeLsb`), for a slice that is a field of a word.
public struct SliceNames: Hashable, Sendable {
  public let low: String
  public let width: String
  public init(low: String, width: String) {
    self.low = low
    self.width = width
  }
}

public struct MemoryID: Hashable, Sendable {
  public let index: Int
}

/// An on-chip memory: an unpacked array with synchronous write ports. Read
/// ports are expressions (`Expr.Node.memoryRead`); register the address or the
/// data for block-RAM inference.
public struct Memory: Hashable, Sendable {
  public let id: MemoryID
  public let name: String
  public let depth: Int
  public let type: HWType
  public let location: SourceLocation
  /// The depth's expression in a parameterized module (`Depth`).
  public var symbolicDepth: ParamExpr? = nil
}

public struct MemoryWrite: Hashable, Sendable {
  public let memory: MemoryID
  public let enable: Expr
  public let address: Expr
  public let data: Expr
  public let location: SourceLocation
}

public indirect enum Statement: Hashable, Sendable {
  case assign(target: SignalID, value: Expr, location: SourceLocation)
  case ifElse(condition: Expr, then: [Statement], else: [Statement], location: SourceLocation)
  case caseOf(subject: Expr, items: [CaseItem], default: [Statement], location: SourceLocation)

  public var location: SourceLocation {
    switch self {
    case .assign(_, _, let location), .ifElse(_, _, _, let location), .caseOf(_, _, _, let location):
      return location
    }
  }
}

public struct CaseItem: Hashable, Sendable {
  public let values: [Literal]
  public let body: [Statement]
}

public struct ContinuousAssign: Hashable, Sendable {
  public let target: SignalID
  public let value: Expr
  public let location: SourceLocation
}

public struct CombBlock: Hashable, Sendable {
  public let statements: [Statement]
  public let location: SourceLocation
}

public struct Instance: Hashable, Sendable {
  public let name: String
  public let module: Module
  /// Port name (as printed in the child) to the expression connected to it.
  /// Outputs must connect to a wire of the parent.
  public let connections: [(port: String, expr: Expr)]
  public let location: SourceLocation
  /// Parameter overrides written as expressions of the parent's parameters
  /// (`.Width(LaneWidth)`); every other parameter of the child is passed
  /// its value in this elaboration.
  public var parameterOverrides: [String: ParamExpr] = [:]

  public static func == (a: Instance, b: Instance) -> Bool {
    a.name == b.name && a.module == b.module && a.location == b.location
      && a.connections.map(\.port) == b.connections.map(\.port)
      && a.connections.map(\.expr) == b.connections.map(\.expr) && a.parameterOverrides == b.parameterOverrides
  }
  public func hash(into h: inout Hasher) {
    h.combine(name)
    h.combine(module.name)
  }
}

/// One hardware module, complete and checked (see `ModuleBuilder.finish`).
public struct Module: Hashable, Sendable {
  /// Settable inside HWDSL so `DesignSet` can give a module its configuration's name.
  public internal(set) var name: String
  public let comment: [String]
  public let parameters: [Parameter]
  public let signals: [Signal]
  public let registers: [Register]
  public let memories: [Memory]
  public let memoryWrites: [MemoryWrite]
  public let assigns: [ContinuousAssign]
  public let combBlocks: [CombBlock]
  public internal(set) var instances: [Instance]
  public let clock: SignalID?
  public let reset: SignalID?
  /// For each output, the inputs it depends on combinationally: the summary a
  /// parent needs to find combinational loops through this module.
  public let combinationalPaths: [String: [String]]
  public let location: SourceLocation
  /// Simulation-only checks, printed under `` `ifndef SYNTHESIS `` (see `Assertion`).
  public var assertions: [Assertion] = []
  /// Constant tables (`localparam`) and the wires that read them (ROM.swift).
  public var roms: [ROM] = []
  public var romReads: [ROMRead] = []
  /// Replicated instances, printed as `for (genvar ...)` loops (Generate.swift).
  public var generateLoops: [GenerateLoop] = []
  /// Named constants, printed as `localparam`s before the signals (Constants.swift).
  public var constants: [NamedConstant] = []

  public func signal(_ id: SignalID) -> Signal { signals[id.index] }
  public var ports: [Signal] { signals.filter { $0.kind == .input || $0.kind == .output } }
  public func port(named name: String) -> Signal? { ports.first { $0.name == name } }

  /// This module and every distinct module it instantiates, children first.
  /// Two different modules may share a name here; `Design` rejects that.
  public var hierarchy: [Module] {
    var order: [Module] = []
    var seen: Set<Module> = []
    func visit(_ module: Module) {
      for instance in module.instances where !seen.contains(instance.module) { visit(instance.module) }
      for loop in module.generateLoops {
        for instance in loop.instances where !seen.contains(instance.module) { visit(instance.module) }
      }
      if seen.insert(module).inserted { order.append(module) }
    }
    visit(self)
    return order
  }
}
