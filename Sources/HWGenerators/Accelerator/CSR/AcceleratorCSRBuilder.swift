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
  let irq, progWe, progAddr, progData, start, tokens, busy: Expr
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
        "WSTRB != 4'hf answer SLVERR and change nothing. start_o, perf_snapshot_o and prog_we_o",
        "are registered one-cycle pulses. Prompt FIFO \(config.promptDepth) + 1 tokens, "
          + "token FIFO \(config.tokenDepth) + 1.",
      ])
    clock = m.clock()
    reset = m.reset()
    addressType = .uint(config.addressWidth)
    axi = m.ports(AXILiteBundle.self, config.addressWidth)
    irq = m.output("irq", .bit, comment: "level: an enabled interrupt is pending")
    progWe = m.output("prog_we", .bit, comment: "pulse: write prog_data_o at prog_addr_o")
    progAddr = m.output("prog_addr", .uint(config.programAddressBits))
    progData = m.output("prog_data", .uint(config.instructionBits))
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
    let write = writeSide()
    let fifos = tokenFIFOs(write)
    program(write)
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
    let programBusy = (hits(.programAddress) || hits(.programData)) && busy
    let error = m.wire(
      "wr_error",
      wStrb.state.ne(0xf) || !mapped || (hits(.prompt) && !promptRoom) || programBusy,
      comment: "SLVERR: partial strobe, not writable, prompt FIFO full, program while busy")
    let go = m.wire("wr_go", write && !error, comment: "the write takes effect")
    let startRequest = m.wire(
      "start_req", go && hits(.control) && wData.state[AcceleratorCSRBit.start] && !busy,
      comment: "START, not busy")
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
    let snapshot = m.register("perf_snapshot", .bit)
    let tokenCount = m.register("tokens", .uint(config.tokensBits), holds: true)
    let data = wData.state
    m.comb {
      Assign(startPulse.next, startRequest)
      Assign(snapshot.next, go && hits(.control) && data[AcceleratorCSRBit.snapshot])
      If(go && hits(.tokens)) { Assign(tokenCount.next, resized(data, config.tokensBits)) }
    }
    m.assign(start, startPulse.state)
    m.assign(perfSnapshot, snapshot.state)
    m.assign(tokens, tokenCount.state)
    return Write(go: go, data: data, hits: hits, startRequest: startRequest, promptRoom: promptRoom)
  }

  /// `wr_prog_addr`-style names: the register's map name in snake case.
  static func signalName(_ r: AcceleratorCSRRegister) -> String {
    r.description.lowercased()
  }

  // MARK: The program

  /// PROG_DATA words shift into the instruction from the top, least
  /// significant first; the last of an instruction pulses `prog_we_o` with
  /// it at PROG_ADDR, which then increments. Writing PROG_ADDR restarts the
  /// word count.
  func program(_ write: Write) {
    let words = config.instructionWords
    let bits = config.instructionBits
    let countType = HWType.uint(max(1, bitsToRepresent(words - 1)))
    let pointer = HWType.uint(config.programAddressBits)
    let address = m.register("prog_addr", pointer, holds: true, comment: "PROG_ADDR: the next instruction's address")
    let count = m.register("prog_words", countType, holds: true, comment: "words of the instruction written")
    let buffer = m.register("prog_buf", .uint(bits), holds: true, comment: "the instruction, last word on top")
    let we = m.register("prog_we", .bit)
    let target = m.register("prog_waddr", pointer, holds: true, comment: "where prog_we_o writes")
    let last = m.wire("prog_last_word", count.state.eq(words - 1), comment: "this word completes the instruction")
    let dataWrite = write.go && write.hits(.programData)
    m.comb {
      Assign(we.next, .low)
      If(write.go && write.hits(.programAddress)) {
        Assign(address.next, resized(write.data, config.programAddressBits))
        Assign(count.next, .zeros(countType))
      }
      If(dataWrite) {
        Assign(buffer.next, .concat([write.data, buffer.state[bits - 1, 32]]))
        If(last) {
          Assign(we.next, .high)
          Assign(target.next, address.state)
          Assign(address.next, address.state + .literal(1, pointer))
          Assign(count.next, .zeros(countType))
        }.Else {
          Assign(count.next, count.state + .literal(1, countType))
        }
      }
    }
    m.assign(progWe, we.state)
    m.assign(progAddr, target.state)
    m.assign(progData, buffer.state)
    programAddress = address.state
  }

  /// PROG_ADDR as the read side shows it.
  private(set) var programAddress = Expr.low

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
