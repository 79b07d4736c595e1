/// Builds one `Module`. Each call records the generator's source line, which
/// `finish()` uses to point its errors at the Swift code that caused them.
///
/// Naming follows the emitted style: `input("act")` is `act_i`, `output("sum")`
/// is `sum_o`, and `register("acc")` is the pair `acc_d` / `acc_q`.
public final class ModuleBuilder {
  public let name: String
  private let comment: [String]
  private let location: SourceLocation
  private var signals: [Signal] = []
  private var registers: [Register] = []
  var parameters: [Parameter] = []
  var memories: [Memory] = []
  private var memoryWrites: [MemoryWrite] = []
  private var assigns: [ContinuousAssign] = []
  private var combBlocks: [CombBlock] = []
  private var instances: [Instance] = []
  private var roms: [ROM] = []
  private var romReads: [ROMRead] = []
  private var generateLoops: [GenerateLoop] = []
  private var clockID: SignalID?
  /// Indices into `registers` of those that hold unless assigned.
  private var holding: [Int] = []
  private var assertions: [Assertion] = []
  /// Named constants (`constant(_:_:_:)`), in declaration order.
  var constants: [NamedConstant] = []

  func addAssertion(_ a: Assertion) { assertions.append(a) }
  /// Problems found while building (a port bundle's table), thrown by `finish()`.
  private var buildIssues: [DesignIssue] = []

  func reportStructure(_ message: String, _ file: StaticString, _ line: UInt) {
    buildIssues.append(DesignIssue(kind: .structure, module: name, message: message, location: SourceLocation(file, line)))
  }
  private var resetID: SignalID?

  public init(_ name: String, comment: [String] = [], file: StaticString = #fileID, line: UInt = #line) {
    self.name = name
    self.comment = comment
    self.location = SourceLocation(file, line)
  }

  /// A register's two halves: assign `next` in a combinational block, read `state`.
  public struct RegisterHandle {
    public let next: Expr
    public let state: Expr
  }

  public struct MemoryHandle {
    public let id: MemoryID
    public let depth: Int
    public let type: HWType
    public var addressWidth: Int { max(1, bitsToRepresent(depth - 1)) }
    public func read(_ address: Expr) -> Expr { Expr(.memoryRead(id, address), type) }
  }

  private func declare(
    _ name: String, _ type: HWType, _ kind: SignalKind, _ comment: String?, _ location: SourceLocation,
    enumType: EnumType? = nil
  ) -> Expr {
    let id = SignalID(index: signals.count)
    signals.append(
      Signal(id: id, name: name, type: type, kind: kind, comment: comment, location: location, enumType: enumType))
    return Expr(.signal(id), type)
  }

  /// The clock, `clk_i`. Every register of the module is clocked by it.
  public func clock(file: StaticString = #fileID, line: UInt = #line) -> Expr {
    let clock = declare("clk_i", .bit, .input, nil, SourceLocation(file, line))
    if case .signal(let id) = clock.node { clockID = id }
    return clock
  }

  /// The active-low reset, `rst_ni`.
  public func reset(file: StaticString = #fileID, line: UInt = #line) -> Expr {
    let reset = declare("rst_ni", .bit, .input, nil, SourceLocation(file, line))
    if case .signal(let id) = reset.node { resetID = id }
    return reset
  }

  public func input(_ name: String, _ type: HWType, comment: String? = nil, file: StaticString = #fileID, line: UInt = #line) -> Expr {
    declare(name + "_i", type, .input, comment, SourceLocation(file, line))
  }

  public func output(_ name: String, _ type: HWType, comment: String? = nil, file: StaticString = #fileID, line: UInt = #line) -> Expr {
    declare(name + "_o", type, .output, comment, SourceLocation(file, line))
  }

  public func wire(
    _ name: String, _ type: HWType, enumType: EnumType? = nil, comment: String? = nil, file: StaticString = #fileID,
    line: UInt = #line
  ) -> Expr {
    declare(name, type, .wire, comment, SourceLocation(file, line), enumType: enumType)
  }

  /// A wire driven by `value` through a continuous assignment.
  public func wire(_ name: String, _ value: Expr, comment: String? = nil, file: StaticString = #fileID, line: UInt = #line) -> Expr {
    let w = declare(name, value.type, .wire, comment, SourceLocation(file, line))
    assign(w, value, file: file, line: line)
    return w
  }

  /// A register `name_d` / `name_q`. With `holds`, it keeps its value unless
  /// assigned: `name_d = name_q;` goes first into the combinational block that
  /// assigns it (see `HoldingRegisters`), so that block assigns only changes.
  public func register(
    _ name: String, _ type: HWType, reset: ResetStyle = .asynchronous, resetValue: Int = 0, holds: Bool = false,
    enumType: EnumType? = nil, comment: String? = nil, file: StaticString = #fileID, line: UInt = #line
  ) -> RegisterHandle {
    let location = SourceLocation(file, line)
    let next = declare(name + "_d", type, .registerNext, comment, location, enumType: enumType)
    let state = declare(name + "_q", type, .registerState, comment, location, enumType: enumType)
    guard case .signal(let nextID) = next.node, case .signal(let stateID) = state.node else { fatalError("unreachable") }
    var resetLiteral = Literal(resetValue, type)
    resetLiteral.enumType = enumType
    registers.append(
      Register(next: nextID, state: stateID, reset: reset, resetValue: resetLiteral, location: location))
    if holds { holding.append(registers.count - 1) }
    return RegisterHandle(next: next, state: state)
  }

  /// A module parameter, printed in the header and readable as a 32-bit constant.
  public func parameter(_ name: String, _ value: Int, file: StaticString = #fileID, line: UInt = #line) -> Expr {
    parameters.append(Parameter(name: name, value: value, location: SourceLocation(file, line)))
    return Expr(.parameter(name), .uint(32))
  }

  public func assign(_ target: Expr, _ value: Expr, file: StaticString = #fileID, line: UInt = #line) {
    let id: SignalID
    if case .signal(let s) = target.node { id = s } else { id = SignalID(index: -1) }
    assigns.append(ContinuousAssign(target: id, value: value, location: SourceLocation(file, line)))
  }

  /// An `always_comb` block. Give every signal it assigns a default first.
  public func comb(file: StaticString = #fileID, line: UInt = #line, @StatementBuilder _ body: () -> [Statement]) {
    combBlocks.append(CombBlock(statements: body(), location: SourceLocation(file, line)))
  }

  public func memory(_ name: String, depth: Int, _ type: HWType, file: StaticString = #fileID, line: UInt = #line) -> MemoryHandle {
    let id = MemoryID(index: memories.count)
    memories.append(Memory(id: id, name: name, depth: depth, type: type, location: SourceLocation(file, line)))
    return MemoryHandle(id: id, depth: depth, type: type)
  }

  /// A synchronous write port: on the clock edge, `memory[address] <= data` when `enable`.
  public func write(
    _ memory: MemoryHandle, enable: Expr, address: Expr, data: Expr, file: StaticString = #fileID, line: UInt = #line
  ) {
    memoryWrites.append(
      MemoryWrite(memory: memory.id, enable: enable, address: address, data: data, location: SourceLocation(file, line)))
  }

  /// Instantiates `module` as `name` (by convention `u_...`). Connections are
  /// by port name; outputs connect to wires of this module.
  ///
  /// An input driven by a computed expression is routed through a wire named
  /// after the instance and port (`u_lane_0_acc`): Yosys 0.23 aborts on some
  /// expressions in port connections (`$signed(w)`), and the wire reads better.
  public func instance(
    _ module: Module, _ name: String, _ connections: [(String, Expr)], file: StaticString = #fileID, line: UInt = #line
  ) {
    let routed = connections.map { (port, expr) -> (port: String, expr: Expr) in
      guard module.port(named: port)?.kind == .input else { return (port, expr) }
      switch expr.node {
      case .signal, .slice, .literal, .concat: return (port, expr)
      default:
        let base = port.hasSuffix("_i") ? String(port.dropLast(2)) : port
        return (port, wire("\(name)_\(base)", expr, file: file, line: line))
      }
    }
    instances.append(Instance(name: name, module: module, connections: routed, location: SourceLocation(file, line)))
  }

  func addROM(_ rom: ROM) -> Int {
    roms.append(rom)
    return roms.count - 1
  }

  func addROMRead(_ read: ROMRead) { romReads.append(read) }

  func addGenerateLoop(_ loop: GenerateLoop) { generateLoops.append(loop) }

  /// Runs every check and returns the finished module, or throws the problems
  /// found, each with the generator source line that caused it.
  public func finish() throws -> Module {
    if !buildIssues.isEmpty { throw DesignError(issues: buildIssues) }
    HoldingRegisters.insertHolds(
      holding.map { registers[$0] }, into: &combBlocks, assigns: &assigns, location: location)
    holding = []
    var draft = Module(
      name: name, comment: comment, parameters: parameters, signals: signals, registers: registers,
      memories: memories, memoryWrites: memoryWrites, assigns: assigns, combBlocks: combBlocks,
      instances: instances, clock: clockID, reset: resetID, combinationalPaths: [:], location: location)
    draft.roms = roms
    draft.romReads = romReads
    draft.generateLoops = generateLoops
    let paths = try DesignChecks.run(draft)
    var module = Module(
      name: name, comment: comment, parameters: parameters, signals: signals, registers: registers,
      memories: memories, memoryWrites: memoryWrites, assigns: assigns, combBlocks: combBlocks,
      instances: instances, clock: clockID, reset: resetID, combinationalPaths: paths, location: location)
    module.roms = roms
    module.romReads = romReads
    module.generateLoops = generateLoops
    module.assertions = assertions
    module.constants = constants
    try AssertionChecks.check(module)
    try EnumChecks.check(module)
    return module
  }
}

/// Bits needed to represent the unsigned value `value` (0 needs 0 bits).
public func bitsToRepresent(_ value: Int) -> Int {
  precondition(value >= 0)
  return value == 0 ? 0 : Int.bitWidth - value.leadingZeroBitCount
}

/// ceil(log2(n)) for n >= 1.
public func ceilLog2(_ n: Int) -> Int {
  precondition(n >= 1)
  return n == 1 ? 0 : bitsToRepresent(n - 1)
}
