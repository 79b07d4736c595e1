import HWDSL
import HWSpec

/// The weight DMA's states: waiting for a start, reading the next program
/// word, and acting on it (a MATVEC's read command, END's jump).
enum WeightDMAState: Int, CaseIterable, HardwareEnum {
  case idle, fetch, decode
  static let hardwareName = "dma_state"
  static let valuePrefix = "Dma"
}

extension AcceleratorGenerator {
  /// The weight DMA: a walker over the program memory that runs ahead of the
  /// sequencer and turns every MATVEC into one read command (the matrix's
  /// port address from the immediate, row groups x words x the port's beat
  /// bytes; with base-3 weights the memory beats the immediate names above
  /// the address), given to one `axi_read_master` per memory port at once.
  /// The ports' beats join into one weight beat (port p's at bits
  /// `[p*memoryDataBits +: memoryDataBits]`, with base 3 the matrix's last-beat
  /// flag on top) that goes into the weight FIFO.
  /// It passes END TOKENS times and then stops, so it reads exactly the
  /// weights of the tokens the sequencer runs, as far ahead as the FIFO and
  /// the read engines' buffers have room. While a CKPT runs it holds still.
  struct WeightDMA {
    /// The joined beat toward the weight FIFO; `fifoReady` is the FIFO's
    /// `in_ready`, driven where the FIFO is instantiated.
    let beatValid, beatData, fifoReady: Expr
    /// The first error of any port, the vector port last: code (`AXIReadError`), port, address.
    let error: Expr

    init(_ t: Top, master: Module) {
      typealias I = AcceleratorInstruction
      let m = t.m, io = t.io, config = t.config, axi = config.memoryMaster
      let ports = config.memoryPorts
      let state = StateMachine(m, "dma_state", reset: WeightDMAState.idle)
      let pc = m.register("dma_pc", io.pcType, holds: true, comment: "the program word the DMA reads next")
      let word = m.register("dma_word", .uint(I.bits), reset: .none, holds: true, comment: "the word it acts on")
      let passes = m.register("dma_tokens", .uint(tokenCountBits), holds: true, comment: "ENDs still to pass")
      let go = m.wire("dma_go", !io.ckptActive, comment: "a CKPT freezes the DMA like the rest")
      func field(_ f: I.Field) -> Expr { MMFreePackage.field(f, of: word.state) }
      let opcode = m.wire("dma_opcode", field(I.opcodeField))
      let immediate = m.wire("dma_imm", field(I.immediateField))
      let isMatVec = m.wire("dma_is_matvec", opcode.eq(AcceleratorOpcode.matVec))
      let isEnd = m.wire("dma_is_end", opcode.eq(AcceleratorOpcode.end))
      precondition(axi.addressWidth == I.matVecAddressBits, "the ports' addresses are MATVEC's")
      let length: Expr
      if config.weightPacking == .base3 {
        // Bytes each port reads: the memory beats the MATVEC names (a fifth fewer than its core beats).
        NormDatapath.discard(
          m, "dma_word", .concat([field(I.lengthField), field(I.aField), field(I.bField), field(I.dstField)]))
        let beats = m.wire(
          "dma_beats", immediate[I.immediateField.width - 1, axi.addressWidth], comment: "memory beats of the matrix")
        length = m.wire("dma_len", beats.extended(to: axi.lengthBits).shiftLeft(axi.beatShift), comment: "bytes per port")
      } else {
        NormDatapath.discard(m, "dma_word", .concat([field(I.aField), field(I.dstField)]))
        // Bytes each port reads: row groups x 64-column words, one port beat each.
        let beats = m.wire(
          "dma_beats", field(I.lengthField).times(field(I.bField)),
          comment: "weight beats of the matrix")
        length = m.wire("dma_len", beats.shiftLeft(axi.beatShift), comment: "bytes per port")
        let addressHigh = immediate[I.immediateField.width - 1, axi.addressWidth]
        NormDatapath.discard(m, "dma_address_high", addressHigh)
      }

      let cmdReady = (0..<ports).map { m.wire("dma_cmd_ready_\($0)", .bit) }
      let allCmdReady = m.wire("dma_cmd_all_ready", .concat(cmdReady).reduceAnd())
      let issue = m.wire(
        "dma_issue", go && state.inState(.decode) && isMatVec && allCmdReady,
        comment: "every port takes the command in the same cycle")
      m.comb {
        state.transitions(
          [
            (.idle, Statements {
              If(io.start && io.tokens.ne(0)) {
                Assign(pc.next, .zeros(io.pcType))
                Assign(passes.next, io.tokens)
                state.goTo(.fetch)
              }
            }),
            (.fetch, Statements {
              If(go) {
                Assign(word.next, io.programMemory.read(pc.state))
                Assign(pc.next, pc.state + .literal(1, io.pcType))
                state.goTo(.decode)
              }
            }),
            (.decode, Statements {
              If(go && isEnd) {
                Assign(passes.next, passes.state - .literal(1, .uint(tokenCountBits)))
                Assign(pc.next, t.fit(immediate, io.pcType))
                If(passes.state.eq(1)) { state.goTo(.idle) }.Else { state.goTo(.fetch) }
              }.Else {
                If(go && (issue || !isMatVec)) { state.goTo(.fetch) }
              }
            }),
          ], default: Statements { state.goTo(.idle) })
      }

      // One read engine per port, all given the same command; their beats join.
      let fifoReady = m.wire("wdma_ready", .bit, comment: "the weight FIFO's in_ready")
      let rdValid = (0..<ports).map { m.wire("dma_rd_valid_\($0)", .bit) }
      let rdData = (0..<ports).map { m.wire("dma_rd_data_\($0)", .uint(axi.dataWidth)) }
      let allValid = m.wire("dma_rd_all_valid", .concat(rdValid).reduceAnd())
      let take = m.wire("dma_take", go && allValid && fifoReady, comment: "a whole weight beat into the FIFO")
      var codes: [Expr] = []
      var addresses: [Expr] = []
      var matrixLast: Expr?
      let base3 = config.weightPacking == .base3
      for p in 0..<ports {
        let last = m.wire("dma_rd_last_\(p)", .bit)
        let busy = m.wire("dma_busy_\(p)", .bit)
        if p == 0 { matrixLast = last }
        // With base-3 weights port 0's last beat marks the matrix's end for the unpacker.
        NormDatapath.discard(m, "dma_status_\(p)", base3 && p == 0 ? busy : .concat([last, busy]))
        let code = m.wire("dma_err_\(p)", .uint(AXIReadError.bits))
        let address = m.wire("dma_err_addr_\(p)", .uint(axi.addressWidth))
        codes.append(code)
        addresses.append(address)
        let bus = io.memory[p]
        var connections: [(String, Expr)] = [
          ("clk_i", io.clk), ("rst_ni", io.rst),
          ("cmd_valid_i", issue), ("cmd_ready_o", cmdReady[p]),
          ("cmd_addr_i", immediate[axi.addressWidth - 1, 0]), ("cmd_len_i", length),
          ("rd_valid_o", rdValid[p]), ("rd_ready_i", take), ("rd_data_o", rdData[p]), ("rd_last_o", last),
        ]
        connections += AXIReadBundle.ports(axi).map { ($0.portName, bus[keyPath: $0.field]) }
        connections += [("busy_o", busy), ("error_o", code), ("error_addr_o", address)]
        m.instance(master, "u_wdma_\(p)", connections)
      }
      // The first failing port, lowest index first; the vector port counts as port `ports`.
      codes.append(io.vectorErr)
      addresses.append(io.vectorErrAddr)
      let portType = HWType.uint(bitsToRepresent(ports))
      var error = Expr.concat([
        Expr.zeros(.uint(AXIReadError.bits)), Expr.zeros(portType), Expr.zeros(.uint(axi.addressWidth)),
      ])
      for p in (0...ports).reversed() {
        let report = Expr.concat([codes[p], .literal(p, portType), addresses[p]])
        error = .mux(codes[p].ne(0), report, error)
      }
      self.error = m.wire("dma_error", error, comment: "{code, port, address} of the first failing port")
      // Held high through a CKPT while the FIFO is full (a valid beat stays valid until taken);
      // the FIFO's read side is frozen then, so it cannot become ready.
      beatValid = m.wire("wdma_valid", allValid && (go || !fifoReady))
      beatData = m.wire(
        "wdma_data", .concat((base3 ? [matrixLast!] : []) + rdData.reversed()),
        comment: base3 ? "{the matrix's last memory beat, the ports' beats}" : nil)
      self.fifoReady = fifoReady
    }
  }
}
