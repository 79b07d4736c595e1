import HWSupport

/// A SystemVerilog enumeration, `typedef enum logic [W-1:0] { ... } name_e;`.
///
/// Generators get one from a Swift enum that adopts `HardwareEnum`; signals
/// and registers declared with it print with the enum's type, its values
/// print by name (in expressions, reset values and `unique case` labels), and
/// the checker rejects a number assigned to it that names no value.
public struct EnumType: Hashable, Sendable {
  public struct Value: Hashable, Sendable {
    /// UpperCamelCase, as lowRISC spells enum values (`StInput`, `OpNorm`).
    public let name: String
    public let value: Int
    public let comment: String?
  }

  /// The type's name, ending in `_e`.
  public let name: String
  public let width: Int
  public let values: [Value]
  /// The package that declares the type, or nil when each module that uses it
  /// declares it after its port list.
  public let package: String?

  public init(name: String, width: Int, values: [Value], package: String? = nil) {
    precondition(name.hasSuffix("_e"), "enum type names end in _e: \(name)")
    precondition(values.allSatisfy { Literal.fits($0.value, .uint(width)) }, "\(name): a value does not fit \(width) bits")
    self.name = name
    self.width = width
    self.values = values
    self.package = package
  }

  public var type: HWType { .uint(width) }

  public func value(_ raw: Int) -> Value? { values.first { $0.value == raw } }

  /// The value `raw` as an expression of this type.
  public func literal(_ raw: Int) -> Expr {
    precondition(value(raw) != nil, "\(raw) is no value of \(name)")
    var l = Literal(raw, type)
    l.enumType = self
    return Expr(.literal(l), type)
  }
}

/// A Swift enum that the hardware uses as a SystemVerilog enum:
///
///     enum Phase: Int, CaseIterable, HardwareEnum {
///       static let hardwareName = "phase"   // phase_e
///       static let valuePrefix = "St"       // StInput, StDrain, ...
///       case input, drain
///     }
///
/// Value names are the case names in UpperCamelCase after `valuePrefix`; the
/// width is just wide enough for the largest raw value unless `hardwareWidth`
/// says more.
public protocol HardwareEnum: CaseIterable, Hashable, RawRepresentable where RawValue == Int {
  /// The type name without `_e`.
  static var hardwareName: String { get }
  static var valuePrefix: String { get }
  static var hardwareWidth: Int { get }
  /// The package declaring the type (`mmfree_pkg`), nil for a module-local typedef.
  static var hardwarePackage: String? { get }
  /// A comment printed after the value in the typedef.
  var hardwareComment: String? { get }
  /// The case's name, from which the value's name is made. The default is
  /// Swift's own; an enum with a `description` of its own must say it.
  var hardwareCaseName: String { get }
}

extension HardwareEnum {
  public static var valuePrefix: String { "" }
  public static var hardwarePackage: String? { nil }
  public static var hardwareWidth: Int { max(1, bitsToRepresent(allCases.map(\.rawValue).max() ?? 0)) }
  public var hardwareComment: String? { nil }

  public static var enumType: EnumType {
    EnumType(
      name: hardwareName + "_e", width: hardwareWidth,
      values: allCases.map {
        EnumType.Value(
          name: valuePrefix + Naming.upperCamelCase($0.hardwareCaseName), value: $0.rawValue,
          comment: $0.hardwareComment)
      }, package: hardwarePackage)
  }

  public var hardwareCaseName: String { String(describing: self) }

  /// This value as a constant of the enum's type (prints as its name).
  public var literal: Expr { Self.enumType.literal(rawValue) }
  /// The value's name in the RTL.
  public var hardwareValueName: String { Self.enumType.value(rawValue)!.name }
}

extension ModuleBuilder {
  /// A register of enum type `E` (`E_e name_d, name_q`), reset to `reset`.
  public func register<E: HardwareEnum>(
    _ name: String, _ type: E.Type, reset: ResetStyle = .asynchronous, resetValue: E, holds: Bool = false,
    comment: String? = nil, file: StaticString = #fileID, line: UInt = #line
  ) -> RegisterHandle {
    register(
      name, E.enumType.type, reset: reset, resetValue: resetValue.rawValue, holds: holds, enumType: E.enumType,
      comment: comment, file: file, line: line)
  }

  /// A wire of enum type `E`, driven by a value of `E` (a constant or signal of it).
  public func wire<E: HardwareEnum>(
    _ name: String, _ type: E.Type, _ value: Expr, comment: String? = nil, file: StaticString = #fileID,
    line: UInt = #line
  ) -> Expr {
    let w = wire(name, E.enumType.type, enumType: E.enumType, comment: comment, file: file, line: line)
    assign(w, value, file: file, line: line)
    return w
  }
}

extension Expr {
  /// `self == value`, the value printed by name.
  public func eq<E: HardwareEnum>(_ value: E) -> Expr { eq(value.literal) }
  public func ne<E: HardwareEnum>(_ value: E) -> Expr { ne(value.literal) }
}

/// `unique case` over an enum-typed subject, its labels printed by name.
public func Switch<E: HardwareEnum>(
  _ subject: Expr, _ type: E.Type, file: StaticString = #fileID, line: UInt = #line,
  cases: [(values: [E], body: [Statement])], default defaultBody: [Statement]
) -> Statement {
  .caseOf(
    subject: subject,
    items: cases.map { item in
      CaseItem(values: item.values.map { v in
        var l = Literal(v.rawValue, E.enumType.type)
        l.enumType = E.enumType
        return l
      }, body: item.body)
    },
    default: defaultBody, location: SourceLocation(file, line))
}
