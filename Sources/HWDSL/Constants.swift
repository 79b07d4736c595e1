/// Named constants of a module: `localparam logic [7:0] AddrCtrl = 8'h00;`
/// before the signals, and the name wherever the value is used (in
/// expressions and as `unique case` labels), as a register map or an
/// encoding reads in lowRISC RTL. The checks see the number; only the
/// printer sees the name.
public struct NamedConstant: Hashable, Sendable {
  /// UpperCamelCase, as lowRISC names constants.
  public let name: String
  public let value: Literal
  public let comment: String?
  public let location: SourceLocation
}

extension ModuleBuilder {
  /// The constant `value` of `type`, named `name` (UpperCamelCase) in the
  /// printed module. Two constants of one module may not share a name.
  public func constant(
    _ name: String, _ value: Int, _ type: HWType, comment: String? = nil, file: StaticString = #fileID,
    line: UInt = #line
  ) -> Expr {
    if name.first?.isUppercase != true || name.contains("_") {
      reportStructure("constant name \(name) is not UpperCamelCase", file, line)
    }
    if constants.contains(where: { $0.name == name }) {
      reportStructure("two constants are named \(name)", file, line)
    }
    if !Literal.fits(value, type) { reportStructure("constant \(name) = \(value) does not fit \(type)", file, line) }
    var literal = Literal(value, type)
    constants.append(NamedConstant(name: name, value: literal, comment: comment, location: SourceLocation(file, line)))
    literal.constantName = name
    return Expr(.literal(literal), type)
  }
}

/// `unique case (subject)` whose labels are constants (`ModuleBuilder.constant`
/// values print by name); each label must be a literal of the subject's width.
public func Switch(
  _ subject: Expr, file: StaticString = #fileID, line: UInt = #line,
  labels cases: [(labels: [Expr], body: [Statement])], default defaultBody: [Statement]
) -> Statement {
  let items = cases.map { item in
    CaseItem(
      values: item.labels.map { label in
        guard case .literal(let l) = label.node, l.type.width == subject.width else {
          preconditionFailure("a case label must be a constant of the subject's \(subject.width) bits")
        }
        return l
      }, body: item.body)
  }
  return .caseOf(subject: subject, items: items, default: defaultBody, location: SourceLocation(file, line))
}

extension ModuleText {
  /// `localparam logic [W-1:0] Name = W'hV;` for each named constant, one a
  /// line, names aligned, each comment at the end of its line. Values print
  /// in hex, as a register map or an encoding is read.
  mutating func emitConstants() {
    guard !module.constants.isEmpty else { return }
    line(0, "")
    let names = module.constants.map(\.name)
    let typeWidth = module.constants.map { typeText($0.value.type).count }.max() ?? 0
    let nameWidth = names.map(\.count).max() ?? 0
    for c in module.constants {
      let text = "localparam \(typeText(c.value.type).rightPadded(to: typeWidth)) "
        + "\(c.name.rightPadded(to: nameWidth)) = \(Self.hex(c.value));"
      declaration(1, text, comment: c.comment)
    }
  }

  /// `W'hV`, the literal's bits in hex (unsigned; constants are bit patterns).
  static func hex(_ l: Literal) -> String {
    var digits = l.words.reversed().map { String($0, radix: 16) }
    for i in digits.indices.dropFirst() { digits[i] = String(repeating: "0", count: 16 - digits[i].count) + digits[i] }
    let text = digits.joined().drop { $0 == "0" }
    return "\(l.type.width)'h\(text.isEmpty ? "0" : String(text))"
  }
}
