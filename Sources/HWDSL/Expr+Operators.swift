/// Expression constructors. Types follow strict rules (see `HWType`); the
/// width pass reports any violation against the statement that uses it.
extension Expr {
  public static func literal(_ value: Int, _ type: HWType) -> Expr {
    .init(.literal(Literal(value, type)), type)
  }
  public static func literal(_ value: Int, width: Int, signed: Bool = false) -> Expr {
    literal(value, HWType(width: width, signed: signed))
  }
  public static func zeros(_ type: HWType) -> Expr { literal(0, type) }
  public static func ones(_ type: HWType) -> Expr { .init(.literal(Literal(-1, type)), type) }
  public static let high = Expr.literal(1, .bit)
  public static let low = Expr.literal(0, .bit)

  public static func + (a: Expr, b: Expr) -> Expr { binary(.add, a, b) }
  public static func - (a: Expr, b: Expr) -> Expr { binary(.sub, a, b) }
  public static func & (a: Expr, b: Expr) -> Expr { binary(.and, a, b) }
  public static func | (a: Expr, b: Expr) -> Expr { binary(.or, a, b) }
  public static func ^ (a: Expr, b: Expr) -> Expr { binary(.xor, a, b) }
  public static func && (a: Expr, b: Expr) -> Expr { binary(.logicalAnd, a, b) }
  public static func || (a: Expr, b: Expr) -> Expr { binary(.logicalOr, a, b) }
  public static prefix func ~ (a: Expr) -> Expr { .init(.unary(.not, a), a.type) }
  public static prefix func ! (a: Expr) -> Expr { .init(.unary(.logicalNot, a), .bit) }
  public static prefix func - (a: Expr) -> Expr { .init(.unary(.negate, a), a.type) }

  /// Multiplication: element-wise datapaths only; the ternary core has none.
  public func times(_ other: Expr) -> Expr { Expr.binary(.mul, self, other) }

  public func eq(_ other: Expr) -> Expr { Expr.binary(.eq, self, other) }
  public func ne(_ other: Expr) -> Expr { Expr.binary(.ne, self, other) }
  public func lt(_ other: Expr) -> Expr { Expr.binary(.lt, self, other) }
  public func le(_ other: Expr) -> Expr { Expr.binary(.le, self, other) }
  public func gt(_ other: Expr) -> Expr { Expr.binary(.gt, self, other) }
  public func ge(_ other: Expr) -> Expr { Expr.binary(.ge, self, other) }
  /// Compare with a constant of this expression's own type.
  public func eq(_ value: Int) -> Expr { eq(.literal(value, type)) }
  public func ne(_ value: Int) -> Expr { ne(.literal(value, type)) }

  static func binary(_ op: BinaryOp, _ a: Expr, _ b: Expr) -> Expr {
    let type: HWType
    if op.isComparison || op.isLogical {
      type = .bit
    } else if op == .mul {
      type = HWType(width: a.width + b.width, signed: a.signed && b.signed)
    } else {
      type = HWType(width: max(a.width, b.width), signed: a.signed && b.signed)
    }
    return .init(.binary(op, a, b), type)
  }

  /// Population count: an adder tree of the bits, `bitsToRepresent(width)` wide.
  public func countOnes() -> Expr { .init(.countOnes(self), .uint(bitsToRepresent(width))) }

  public func reduceOr() -> Expr { .init(.unary(.reduceOr, self), .bit) }
  public func reduceAnd() -> Expr { .init(.unary(.reduceAnd, self), .bit) }
  public func reduceXor() -> Expr { .init(.unary(.reduceXor, self), .bit) }

  public func shiftLeft(_ amount: Int) -> Expr { .init(.shift(.left, self, amount), type) }
  /// Arithmetic for signed values, logical for unsigned ones.
  public func shiftRight(_ amount: Int) -> Expr {
    .init(.shift(signed ? .rightArithmetic : .rightLogical, self, amount), type)
  }

  /// Bits `high...low` (unsigned, like an SV part-select).
  public subscript(high: Int, low: Int) -> Expr {
    // All of a value is the value itself (Yosys 0.23 trips over `$signed(w[31:0])`
    // of a 32-bit w), and a 1-bit signal has no [0] to select in SystemVerilog.
    if low == 0 && high == width - 1 { return asUnsigned }
    // A slice of a slice selects from the underlying signal directly.
    if case .slice(let base, _, let baseLow) = node {
      return .init(.slice(base, high: baseLow + high, low: baseLow + low), .uint(high - low + 1))
    }
    return .init(.slice(self, high: high, low: low), .uint(high - low + 1))
  }
  public subscript(bit: Int) -> Expr { self[bit, bit] }
  public var msb: Expr { self[width - 1] }

  public var asSigned: Expr { signed ? self : .init(.reinterpret(self, signed: true), .sint(width)) }
  public var asUnsigned: Expr { signed ? .init(.reinterpret(self, signed: false), .uint(width)) : self }

  /// Extends to `width` bits: sign extension for signed values, zeros otherwise.
  public func extended(to width: Int) -> Expr {
    width == self.width ? self : .init(.extend(self, width: width), HWType(width: width, signed: signed))
  }
  /// The low `width` bits, keeping signedness (hardware wrap-around).
  public func truncated(to width: Int) -> Expr {
    if width == self.width { return self }
    let low = self[width - 1, 0]
    return signed ? low.asSigned : low
  }

  public static func concat(_ parts: [Expr]) -> Expr {
    // Like SV, a concatenation is unsigned, even of one signed part.
    if parts.count == 1 { return parts[0].asUnsigned }
    // A part of a parameter's width makes the whole one (`Width + 1`).
    guard parts.contains(where: { $0.type.symbolicWidth != nil }) else {
      return .init(.concat(parts), .uint(parts.reduce(0) { $0 + $1.width }))
    }
    let symbolic = parts.compactMap(\.type.symbolicWidth)
    let constant = parts.filter { $0.type.symbolicWidth == nil }.reduce(0) { $0 + $1.width }
    let sum = symbolic.dropFirst().reduce(symbolic[0], +)
    return .init(.concat(parts), .uint(constant == 0 ? sum : sum + constant))
  }
  public func replicated(_ count: Int) -> Expr {
    count == 1 ? self : .init(.replicate(count, self), .uint(width * count))
  }

  /// `condition ? whenTrue : whenFalse`.
  public static func mux(_ condition: Expr, _ whenTrue: Expr, _ whenFalse: Expr) -> Expr {
    .init(.mux(condition, whenTrue, whenFalse), whenTrue.type)
  }

  /// A constant of `type`; for comparisons against parameters and counters.
  public static func constant(_ value: Int, like other: Expr) -> Expr { .literal(value, other.type) }
}

extension Expr {
  /// Whether SystemVerilog can part-select this expression directly.
  public var isSelectable: Bool {
    switch node {
    case .signal, .memoryRead: return true
    default: return false
    }
  }
}
