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

extension Array where Element == Statement {
  /// The statements split in two by what they assign: those assigning one of `targets`,
  /// inside the same `if`s and `case`s as before, and all the others. An `always_comb`
  /// block that drives a shared datapath's inputs and reads its outputs becomes two blocks
  /// this way, one driving, one reading (the design checks' `blockFeedback`).
  public func partitioned(assigning targets: [Expr]) -> (assigning: [Statement], rest: [Statement]) {
    let ids = Set(targets.compactMap { target -> SignalID? in
      guard case .signal(let id) = target.node else { return nil }
      return id
    })
    var assigning: [Statement] = []
    var rest: [Statement] = []
    for statement in self {
      switch statement {
      case .assign(let target, _, _):
        if ids.contains(target) { assigning.append(statement) } else { rest.append(statement) }
      case .ifElse(let condition, let thenBody, let elseBody, let location):
        let (thenA, thenR) = thenBody.partitioned(assigning: targets)
        let (elseA, elseR) = elseBody.partitioned(assigning: targets)
        if !thenA.isEmpty || !elseA.isEmpty {
          assigning.append(.ifElse(condition: condition, then: thenA, else: elseA, location: location))
        }
        if !thenR.isEmpty || !elseR.isEmpty {
          rest.append(.ifElse(condition: condition, then: thenR, else: elseR, location: location))
        }
      case .caseOf(let subject, let items, let defaultBody, let location):
        let parts = items.map { ($0.values, $0.body.partitioned(assigning: targets)) }
        let (defaultA, defaultR) = defaultBody.partitioned(assigning: targets)
        if !defaultA.isEmpty || parts.contains(where: { !$0.1.assigning.isEmpty }) {
          let kept = parts.filter { !$0.1.assigning.isEmpty }.map { CaseItem(values: $0.0, body: $0.1.assigning) }
          assigning.append(.caseOf(subject: subject, items: kept, default: defaultA, location: location))
        }
        if !defaultR.isEmpty || parts.contains(where: { !$0.1.rest.isEmpty }) {
          let kept = parts.filter { !$0.1.rest.isEmpty }.map { CaseItem(values: $0.0, body: $0.1.rest) }
          rest.append(.caseOf(subject: subject, items: kept, default: defaultR, location: location))
        }
      }
    }
    return (assigning, rest)
  }
}
