/// A state machine over a Swift enum (cf. SpinalHDL's `StateMachine`): the
/// state register has the enum's type and holds unless a transition assigns
/// it, states are tested by name, and the transitions print as one
/// `unique case (state_q)` with the enum's value names as labels.
///
///     let fsm = StateMachine(m, "state", reset: State.idle)
///     let busy = m.wire("busy", fsm.inState(.busy))
///     m.comb {
///       fsm.transitions([
///         (.idle, Statements { If(start) { fsm.goTo(.busy) } }),
///         (.busy, Statements { If(done) { fsm.goTo(.idle) } }),
///       ], default: Statements { fsm.goTo(.idle) })
///     }
///
/// `default` runs for an encoding that names no state (and for states
/// given no arm), so the machine recovers from any value.
public struct StateMachine<State: HardwareEnum> {
  public let register: ModuleBuilder.RegisterHandle

  public init(
    _ m: ModuleBuilder, _ name: String = "state", reset: State, comment: String? = nil,
    file: StaticString = #fileID, line: UInt = #line
  ) {
    register = m.register(name, State.self, resetValue: reset, holds: true, comment: comment, file: file, line: line)
  }

  /// The current state (`state_q`).
  public var current: Expr { register.state }
  /// The state after this cycle (`state_d`).
  public var next: Expr { register.next }

  /// `state_q == Name`.
  public func inState(_ state: State) -> Expr { register.state.eq(state) }

  /// `state_d = Name;`
  public func goTo(_ state: State, file: StaticString = #fileID, line: UInt = #line) -> Statement {
    Assign(register.next, state.literal, file: file, line: line)
  }

  /// `unique case (state_q)` with one arm a state; a state without an arm
  /// stays where it is unless `default` moves it.
  public func transitions(
    _ arms: [(state: State, body: [Statement])], default defaultBody: [Statement],
    file: StaticString = #fileID, line: UInt = #line
  ) -> Statement {
    Switch(
      register.state, State.self, file: file, line: line, cases: arms.map { (values: [$0.state], body: $0.body) },
      default: defaultBody)
  }
}
