/// Registers that keep their value unless assigned (`register(..., holds: true)`).
///
/// The hold is written once, by the builder, instead of by every generator:
/// `name_d = name_q;` goes first into each `always_comb` block that assigns
/// `name_d`, so the block's own statements are only the changes. A holding
/// register no block assigns is a constant register and gets
/// `assign name_d = name_q;`. The checks run after this, on the statements as
/// printed, so every `_d` still has its default and no latch can form.
enum HoldingRegisters {
  static func insertHolds(
    _ registers: [Register], into blocks: inout [CombBlock], assigns: inout [ContinuousAssign],
    location: SourceLocation
  ) {
    guard !registers.isEmpty else { return }
    var assignedSomewhere: Set<SignalID> = []
    for (i, block) in blocks.enumerated() {
      let targets = assignedTargets(block.statements)
      let holds = registers.filter { targets.contains($0.next) && !startsWithDefault(block.statements, $0.next) }
      assignedSomewhere.formUnion(registers.map(\.next).filter { targets.contains($0) })
      guard !holds.isEmpty else { continue }
      let defaults = holds.map { r in
        Statement.assign(target: r.next, value: Expr(.signal(r.state), r.resetValue.type), location: r.location)
      }
      blocks[i] = CombBlock(statements: defaults + block.statements, location: block.location)
    }
    let driven = Set(assigns.map(\.target))
    for r in registers where !assignedSomewhere.contains(r.next) && !driven.contains(r.next) {
      assigns.append(ContinuousAssign(target: r.next, value: Expr(.signal(r.state), r.resetValue.type), location: r.location))
    }
  }

  /// Every signal assigned anywhere in `statements`, at any depth.
  static func assignedTargets(_ statements: [Statement]) -> Set<SignalID> {
    var out: Set<SignalID> = []
    for s in statements {
      switch s {
      case .assign(let target, _, _): out.insert(target)
      case .ifElse(_, let t, let e, _): out.formUnion(assignedTargets(t)); out.formUnion(assignedTargets(e))
      case .caseOf(_, let items, let d, _):
        for item in items { out.formUnion(assignedTargets(item.body)) }
        out.formUnion(assignedTargets(d))
      }
    }
    return out
  }

  /// Whether the block already gives `target` an unconditional value before
  /// anything else reads it (a generator's own default, `x_d = x_q + 1`).
  static func startsWithDefault(_ statements: [Statement], _ target: SignalID) -> Bool {
    for s in statements {
      guard case .assign(let t, _, _) = s else { return false }
      if t == target { return true }
    }
    return false
  }
}
