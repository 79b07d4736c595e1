/// Ordered statement lists for `always_comb` blocks, written with a result
/// builder so the Swift reads like the RTL it produces:
///
///     m.comb {
///       Assign(count.next, count.state)
///       If(fire) { Assign(count.next, count.state + one) }
///     }
@resultBuilder
public enum StatementBuilder {
  public static func buildExpression(_ statement: Statement) -> [Statement] { [statement] }
  public static func buildExpression(_ statements: [Statement]) -> [Statement] { statements }
  public static func buildExpression(_ ifElse: If) -> [Statement] { [ifElse.statement] }
  public static func buildBlock(_ parts: [Statement]...) -> [Statement] { parts.flatMap { $0 } }
  public static func buildOptional(_ part: [Statement]?) -> [Statement] { part ?? [] }
  public static func buildEither(first: [Statement]) -> [Statement] { first }
  public static func buildEither(second: [Statement]) -> [Statement] { second }
  public static func buildArray(_ parts: [[Statement]]) -> [Statement] { parts.flatMap { $0 } }
}

/// `target = value;` inside a combinational block. The target must be a
/// signal (a wire, an output, or a register's `next`).
public func Assign(_ target: Expr, _ value: Expr, file: StaticString = #fileID, line: UInt = #line) -> Statement {
  guard case .signal(let id) = target.node else {
    // Reported by the checker: an assignment needs a signal on its left.
    return .assign(target: SignalID(index: -1), value: value, location: SourceLocation(file, line))
  }
  return .assign(target: id, value: value, location: SourceLocation(file, line))
}

/// `if (condition) begin ... end [else begin ... end]`.
public struct If {
  let condition: Expr
  let thenBody: [Statement]
  let elseBody: [Statement]
  let location: SourceLocation

  public init(
    _ condition: Expr, file: StaticString = #fileID, line: UInt = #line,
    @StatementBuilder then body: () -> [Statement]
  ) {
    self.condition = condition
    self.thenBody = body()
    self.elseBody = []
    self.location = SourceLocation(file, line)
  }

  init(_ condition: Expr, _ thenBody: [Statement], _ elseBody: [Statement], _ location: SourceLocation) {
    self.condition = condition
    self.thenBody = thenBody
    self.elseBody = elseBody
    self.location = location
  }

  public func Else(@StatementBuilder _ body: () -> [Statement]) -> If {
    If(condition, thenBody, body(), location)
  }

  /// `else if`, nested as a single statement in the else branch.
  public func ElseIf(
    _ condition: Expr, file: StaticString = #fileID, line: UInt = #line,
    @StatementBuilder then body: () -> [Statement]
  ) -> If {
    let nested = If(condition, file: file, line: line, then: body)
    return If(self.condition, thenBody, [nested.statement], location)
  }

  public var statement: Statement {
    .ifElse(condition: condition, then: thenBody, else: elseBody, location: location)
  }
}

/// `unique case (subject) ... default: ... endcase`. Case values are constants
/// of the subject's type; a default branch is always printed.
public func Switch(
  _ subject: Expr, file: StaticString = #fileID, line: UInt = #line,
  cases: [(values: [Int], body: [Statement])], default defaultBody: [Statement]
) -> Statement {
  .caseOf(
    subject: subject,
    items: cases.map { CaseItem(values: $0.values.map { Literal($0, subject.type) }, body: $0.body) },
    default: defaultBody, location: SourceLocation(file, line))
}

/// Builds a statement list outside a block, for generators that assemble
/// case bodies in Swift loops.
public func Statements(@StatementBuilder _ body: () -> [Statement]) -> [Statement] { body() }
