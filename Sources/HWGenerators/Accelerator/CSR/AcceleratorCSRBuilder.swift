import HWDSL
import HWSpec

/// The body of `mmfree_csr`, one section per method: the register map's
/// constants, the AXI4-Lite write side and its register writes, the
/// program assembly, the token FIFOs, the status and interrupt bits, the
/// read side and the assertions. The sections share the signals below.
final class AcceleratorCSRBuilder {
  let config: AcceleratorCSRConfig
  let m: ModuleBuilder
  let axi: AXILiteBundle
  let promptModule: Module
  let tokenModule: Module
  let clock: Expr
  let reset: Expr
  let addressType: HWType

  // Toward the accelerator core.
  let irq, load, progBase, progCount, start, tokens, busy: Expr
  let promptValid, promptReady, promptToken, tokenValid, token: Expr
  let err, memErr, memErrPort, memErrAddr, perfSnapshot, perfSel, perfData: Expr

  /// The offsets' `localparam`s, in `AcceleratorCSRRegister.allCases` order.
  private(set) var offsets: [Expr] = []

  init(_ config: AcceleratorCSRConfig, promptFIFO: Module, tokenFIFO: Module) {
    self.config = config
    promptModule = promptFIFO
    tokenModule = tokenFIFO
    m = ModuleBuilder(
      AcceleratorCSRGenerator.moduleName,
      comment: [
        "Accelerator control/status registers behind an AXI4-Lite subordinate port (32-bit data;",
        "no AWPROT/ARPROT: every access is treated alike). Register map: docs/control-registers.md.",
        "AW and W are held until both are in; one B and one R response outstanding at a time.",
        "Unmapped offsets, reads of write-only and writes of read-only registers, writes with",
        "WSTRB != 4'hf answer SLVERR and change nothing. start_o, load_o and perf_snapshot_o",
        "are registered one-cycle pulses. Prompt FIFO \(config.promptDepth) + 1 tokens, "
          + "token FIFO \(config.tokenDepth) + 1.",
      ])
    clock = m.clock()
    reset = m.reset()
    addressType = .uint(config.addressWidth)
    axi = m.ports(AXILiteBundle.self, config.addressWidth)
    irq = m.output("irq", .bit, comment: "level: an enabled interrupt is pending")
    load = m.output("load", .bit, comment: "pulse: read prog_count_o instructions from prog_base_o")
    progBase = m.output("prog_base", .uint(config.programBaseBits), comment: "PROG_BASE: the program's byte address")
    progCount = m.output("prog_count", .uint(config.programCountBits), comment: "PROG_COUNT: 1...programDepth")
    start = m.output("start", .bit, comment: "pulse: run tokens_o tokens")
    tokens = m.output("tokens", .uint(config.tokensBits))
    busy = m.input("busy", .bit)
    promptValid = m.output("prompt_valid", .bit, comment: "the prompt FIFO's head")
    promptReady = m.input("prompt_ready", .bit)
    promptToken = m.output("prompt_token", .uint(config.tokenBits))
    tokenValid = m.input("token_valid", .bit, comment: "pulse: a generated token (no back-pressure)")
    token = m.input("token", .uint(config.tokenBits))
    err = m.input("err", .bit, comment: "sticky core error")
    memErr = m.input("mem_err", .uint(config.memoryErrorCodeBits), comment: "memory error code, 0 none")
    memErrPort = m.input("mem_err_port", .uint(config.memoryErrorPortBits))
    memErrAddr = m.input("mem_err_addr", .uint(config.memoryAddressBits))
    perfSnapshot = m.output("perf_snapshot", .bit, comment: "pulse: copy every counter into the shadow bank")
    perfSel = m.output("perf_sel", .uint(config.counterSelectBits), comment: "the shadow counter read")
    perfData = m.input("perf_data", .uint(config.counterBits), comment: "shadow counter perf_sel_o")
  }

  func build() throws -> Module {
    for r in AcceleratorCSRRegister.allCases {
      offsets.append(m.constant(r.constantName, r.rawValue, addressType, comment: r.description))
    }
    let programCountState = m.register("prog_count", .uint(config.programCountBits), holds: true, comment: "PROG_COUNT")
    programCount = programCountState.state
    let write = writeSide()
    let fifos = tokenFIFOs(write)
    program(write, count: programCountState)
    let status = statusBits(write, fifos)
    readSide(status, fifos)
    assertions(write, fifos)
    return try m.finish()
  }

  func offset(_ r: AcceleratorCSRRegister) -> Expr {
    offsets[AcceleratorCSRRegister.allCases.firstIndex(of: r)!]
  }

  /// A 32-bit register value from `parts`, most significant first, zeros
  /// above them; parts of no bits are left out.
  func word(_ parts: [Expr]) -> Expr {
    let width = parts.reduce(0) { $0 + $1.width }
    precondition(width <= 32)
    let all = (width < 32 ? [Expr.zeros(.uint(32 - width))] : []) + parts
    return .concat(all)
  }

  /// `count` zero bits, or nothing.
  func pad(_ count: Int) -> [Expr] { count > 0 ? [.zeros(.uint(count))] : [] }

  // MARK: The write side

  struct Write {
    /// The decoded write is applied this cycle (held AW and W, no error).
    let go: Expr
    /// The held WDATA.
    let data: Expr
    /// The held address is that register's.
    let hits: (AcceleratorCSRRegister) -> Expr
    /// CTRL START is taken (not busy).
    let startRequest: Expr
    /// The prompt FIFO takes a token (driven by the FIFO).
    let promptRoom: Expr
  }

  /// AW and W into holding registers, in any order; when both are held and
  /// no B response waits, the write is decoded, applied unless it errs, and
  /// answered on B.
  func writeSide() -> Write {
    let a = config.addressWidth
    let awHeld = m.register("aw_held", .bit, holds: true, comment: "an AW is held")
    let awAddr = m.register("aw_addr", addressType, holds: true)
    let wHeld = m.register("w_held", .bit, holds: true, comment: "a W is held")
    let wData = m.register("w_data", .uint(AXILiteBundle.dataBits), holds: true)
    let wStrb = m.register("w_strb", .uint(AXILiteBundle.strobeBits), holds: true)
    let bValid = m.register("b_valid", .bit, holds: true)
    let bResp = m.register("b_resp", .uint(2), holds: true)
    m.assign(axi.awReady, !awHeld.state)
    m.assign(axi.wReady, !wHeld.state)
    let awFire = m.wire("aw_fire", axi.awValid && !awHeld.state)
    let wFire = m.wire("w_fire", axi.wValid && !wHeld.state)
    let write = m.wire("wr_en", awHeld.state && wHeld.state && !bValid.state, comment: "decode the held write")
    let address = m.wire(
      "wr_addr", .concat([awAddr.state[a - 1, 2], .zeros(.uint(2))]), comment: "the register's offset")
    NormDatapath.discard(m, "wr_addr_byte", awAddr.state[1, 0])

    var hitWires: [AcceleratorCSRRegister: Expr] = [:]
    for r in AcceleratorCSRRegister.allCases where r.writable {
      hitWires[r] = m.wire("wr_" + Self.signalName(r), address.eq(offset(r)))
    }
    let hits = { (r: AcceleratorCSRRegister) -> Expr in hitWires[r]! }
    let writable = AcceleratorCSRRegister.allCases.filter(\.writable).map(hits)
    let mapped = m.wire("wr_mapped", writable.dropFirst().reduce(writable[0]) { $0 || $1 }, comment: "a writable register")
    let promptRoom = m.wire("prompt_in_ready", .bit, comment: "the prompt FIFO takes a token")
    let program = AcceleratorCSRRegister.allCases.filter(\.program).map(hits)
    let programBusy = m.wire(
      "wr_program_busy", program.dropFirst().reduce(program[0]) { $0 || $1 } && busy,
      comment: "a program register written while busy")
    let refused = programRefusals(address: hits, data: wData.state)
    let error = m.wire(
      "wr_error",
      wStrb.state.ne(0xf) || !mapped || (hits(.prompt) && !promptRoom) || programBusy || refused,
      comment: "SLVERR: partial strobe, not writable, prompt FIFO full, program while busy, a bad program load")
    let go = m.wire("wr_go", write && !error, comment: "the write takes effect")
    let startRequest = m.wire(
      "start_req", go && hits(.control) && wData.state[AcceleratorCSRBit.start] && !busy,
      comment: "START, not busy")
    let loadRequest = m.wire(
      "load_req", go && hits(.control) && wData.state[AcceleratorCSRBit.load], comment: "LOAD (refused while busy)")
    m.comb {
      If(awFire) {
        Assign(awHeld.next, .high)
        Assign(awAddr.next, axi.awAddr)
      }
      If(wFire) {
        Assign(wHeld.next, .high)
        Assign(wData.next, axi.wData)
        Assign(wStrb.next, axi.wStrb)
      }
      If(write) {
        Assign(awHeld.next, .low)
        Assign(wHeld.next, .low)
        Assign(bValid.next, .high)
        Assign(bResp.next, .mux(error, .literal(AXILiteBundle.slaveError, .uint(2)), .literal(AXILiteBundle.okay, .uint(2))))
      }.ElseIf(axi.bReady) {
        Assign(bValid.next, .low)
      }
    }
    m.assign(axi.bValid, bValid.state)
    m.assign(axi.bResp, bResp.state)

    // CTRL's pulses and the plain read/write registers.
    let startPulse = m.register("start", .bit)
    let loadPulse = m.register("load", .bit)
    let snapshot = m.register("perf_snapshot", .bit)
    let tokenCount = m.register("tokens", .uint(config.tokensBits), holds: true)
    let data = wData.state
    m.comb {
      Assign(startPulse.next, startRequest)
      Assign(loadPulse.next, loadRequest)
      Assign(snapshot.next, go && hits(.control) && data[AcceleratorCSRBit.snapshot])
      If(go && hits(.tokens)) { Assign(tokenCount.next, resized(data, config.tokensBits)) }
    }
    m.assign(start, startPulse.state)
    m.assign(load, loadPulse.state)
    m.assign(perfSnapshot, snapshot.state)
    m.assign(tokens, tokenCount.state)
    return Write(go: go, data: data, hits: hits, startRequest: startRequest, promptRoom: promptRoom)
  }

  /// `wr_prog_addr`-style names: the register's map name in snake case.
  static func signalName(_ r: AcceleratorCSRRegister) -> String {
    r.description.lowercased()
  }

  // MARK: The program load

  /// PROG_BASE and PROG_COUNT (`count`, declared first: the write side's
  /// checks read it), held for the top's loader; the checks that refuse a
  /// load's bad parameters are `programRefusals`.
  func program(_ write: Write, count: ModuleBuilder.RegisterHandle) {
    let baseBits = config.programBaseBits, countBits = config.programCountBits
    let base = m.register("prog_base", .uint(baseBits), holds: true, comment: "PROG_BASE_HI, PROG_BASE_LO")
    let data = write.data
    m.comb {
      If(write.go && write.hits(.programBaseLow)) {
        Assign(base.next, baseBits > 32 ? .concat([base.state[baseBits - 1, 32], data]) : resized(data, baseBits))
      }
      if baseBits > 32 {
        If(write.go && write.hits(.programBaseHigh)) {
          Assign(base.next, .concat([resized(data, baseBits - 32), base.state[31, 0]]))
        }
      }
      If(write.go && write.hits(.programCount)) { Assign(count.next, resized(data, countBits)) }
    }
    m.assign(progBase, base.state)
    m.assign(progCount, count.state)
    programBase = base.state
  }

  /// PROG_BASE and PROG_COUNT as the read side shows them.
  private(set) var programBase = Expr.low
  private(set) var programCount = Expr.low

  /// The writes a program load refuses (SLVERR, nothing changes): a PROG_BASE
  /// bit the address cannot hold or off the alignment, a PROG_COUNT above the
  /// program memory's depth, and a CTRL LOAD while busy, with START, or with
  /// PROG_COUNT 0.
  func programRefusals(address hits: (AcceleratorCSRRegister) -> Expr, data: Expr) -> Expr {
    let baseBits = config.programBaseBits, align = config.programAlignBits
    var lowMask = align == 0 ? 0 : (1 << align) - 1
    if baseBits < 32 { lowMask |= Int(UInt32.max) & ~((1 << baseBits) - 1) }
    let highMask = baseBits >= 64 ? 0 : Int(UInt32.max) & ~(baseBits > 32 ? (1 << (baseBits - 32)) - 1 : 0)
    let mask = { (value: Int) in Expr.literal(value, .uint(32)) }
    let badLow = m.wire(
      "wr_bad_base_lo", hits(.programBaseLow) && (data & mask(lowMask)).ne(0),
      comment: "PROG_BASE_LO off the \(config.programAlignBytes)-byte alignment or beyond the address")
    let badHigh = m.wire(
      "wr_bad_base_hi", hits(.programBaseHigh) && (data & mask(highMask)).ne(0),
      comment: "PROG_BASE_HI beyond the \(baseBits)-bit address")
    let badCount = m.wire(
      "wr_bad_count", hits(.programCount) && data.gt(.literal(config.programDepth, .uint(32))),
      comment: "PROG_COUNT above the program memory's \(config.programDepth) instructions")
    let loadBit = data[AcceleratorCSRBit.load]
    let badLoad = m.wire(
      "wr_bad_load",
      hits(.control) && loadBit && (busy || data[AcceleratorCSRBit.start] || programCount.eq(0)),
      comment: "LOAD while busy, with START, or of no instructions")
    return badLow || badHigh || badCount || badLoad
  }

  // MARK: The token FIFOs

  struct FIFOs {
    let promptFull: Expr
    /// A token entered the token FIFO / was lost to a full one.
    let tokenPush: Expr
    let tokenLost: Expr
    let tokenHeadValid: Expr
    let tokenHead: Expr
    /// The read side pops the head (a TOKEN read served).
    let tokenPop: Expr
  }

  /// The prompt FIFO (PROMPT writes to `prompt_*`) and the token FIFO
  /// (`token_*` to TOKEN reads).
  func tokenFIFOs(_ write: Write) -> FIFOs {
    let t = config.tokenBits
    let promptRoom = write.promptRoom
    let push = m.wire("prompt_push", write.go && write.hits(.prompt))
    let promptOutValid = m.wire("prompt_out_valid", .bit)
    let promptOut = m.wire("prompt_out_data", .uint(t))
    let promptLevel = m.wire("prompt_level", .uint(bitsToRepresent(config.promptDepth + 1)))
    m.instance(
      promptModule, "u_prompt_fifo",
      [
        ("clk_i", clock), ("rst_ni", reset), ("in_valid_i", push), ("in_ready_o", promptRoom),
        ("in_data_i", write.data[t - 1, 0]), ("out_valid_o", promptOutValid), ("out_ready_i", promptReady),
        ("out_data_o", promptOut), ("hold_i", .low), ("level_o", promptLevel),
      ])
    NormDatapath.discard(m, "prompt_level", promptLevel)
    m.assign(promptValid, promptOutValid)
    m.assign(promptToken, promptOut)

    let room = m.wire("token_in_ready", .bit)
    let tokenPush = m.wire("token_push", tokenValid && room, comment: "a generated token enters the FIFO")
    let lost = m.wire("token_lost", tokenValid && !room, comment: "... or is lost to a full one")
    let headValid = m.wire("token_out_valid", .bit)
    let head = m.wire("token_out_data", .uint(t))
    let pop = m.wire("token_pop", .bit, comment: "a TOKEN read takes the head")
    let level = m.wire("token_level", .uint(bitsToRepresent(config.tokenDepth + 1)))
    m.instance(
      tokenModule, "u_token_fifo",
      [
        ("clk_i", clock), ("rst_ni", reset), ("in_valid_i", tokenPush), ("in_ready_o", room),
        ("in_data_i", token), ("out_valid_o", headValid), ("out_ready_i", pop),
        ("out_data_o", head), ("hold_i", .low), ("level_o", level),
      ])
    NormDatapath.discard(m, "token_level", level)
    return FIFOs(
      promptFull: !promptRoom, tokenPush: tokenPush, tokenLost: lost, tokenHeadValid: headValid, tokenHead: head,
      tokenPop: pop)
  }
}
