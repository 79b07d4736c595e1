import HWDSL
import HWSpec

extension AcceleratorGenerator {
  /// The sequencer's registers: prefetching fetch, issue, busy; the MATVEC
  /// busy flag, and the result-valid wire the running MATVEC drives.
  struct SequencerRegisters {
    let state: StateMachine<SequencerState>
    let pc, next, nextValid, ir, fresh, token, tokenPulse, badOp, tokensLeft: ModuleBuilder.RegisterHandle
    /// A MATVEC runs on its own once issued (the sequencer goes on with
    /// element-wise work); its results take the scratchpad write port first.
    let mvBusy: ModuleBuilder.RegisterHandle
    let mvYValid: Expr
    /// With several streams: the stream SETC selected (QUANT, EMBED and ARGMAX serve
    /// it), and each stream's last ARGMAX, the next EMBED's token when no prompt
    /// token waits. `token` is then the last ARGMAX tagged with its stream.
    let stream: ModuleBuilder.RegisterHandle?
    let lastTokens: [ModuleBuilder.RegisterHandle]

    init(_ t: Top) {
      let m = t.m
      state = StateMachine(m, "state", reset: SequencerState.idle)
      pc = m.register("pc", t.io.pcType, holds: true)
      let word = HWType.uint(AcceleratorInstruction.bits)
      next = m.register("next_instr", word, reset: .none, holds: true, comment: "prefetched word")
      nextValid = m.register("next_valid", .bit)
      ir = m.register("instr", word, reset: .none, holds: true, comment: "executing word")
      fresh = m.register("fresh", .bit, holds: true, comment: "the first token: MLGRU h starts at zero")
      let streams = t.config.streams
      token = m.register(
        "token", t.io.tokenType, holds: true, comment: streams == 1 ? "the last ARGMAX" : "the last ARGMAX, its stream above it")
      stream = streams == 1
        ? nil : m.register("stream", .uint(t.config.streamBits), holds: true, comment: "the stream SETC selected")
      lastTokens = streams == 1
        ? []
        : (0..<streams).map {
          m.register("last_token_\($0)", .uint(tokenBits), holds: true, comment: $0 == 0 ? "stream s's last ARGMAX" : nil)
        }
      tokenPulse = m.register("token_pulse", .bit)
      badOp = m.register("bad_op", .bit)
      tokensLeft = m.register("tokens_left", .uint(tokenCountBits), holds: true, comment: "ENDs before the halt")
      mvBusy = m.register("mv_busy", .bit, comment: "a MATVEC is running")
      mvYValid = m.wire("mv_y_valid", .bit)
    }
  }

  /// The executing word's fields and its opcode decoded into one wire per
  /// instruction, with the groups the datapath steers by.
  struct Decode {
    let length, fieldA, fieldB, fieldDst, immediate, lowerBoundAddr, layerField: Expr
    let issuing, inBusy: Expr
    let opNorm, opQuant, opMatVec, opRecur, opSiluMul, opAdd, opArgmax, opCkpt: Expr
    let opLoad, opEmbed, opWait, opSet, opEnd, opWaitMatVec: Expr
    let usesNorm, usesMLGRU, usesVector: Expr
    /// Reads operands from the buffers.
    let streams: Expr
    let known: Expr

    init(_ t: Top, _ seq: SequencerRegisters) {
      typealias I = AcceleratorInstruction
      let m = t.m
      /// Field `f` of the executing word, its bounds named by `mmfree_pkg`.
      func field(_ f: I.Field) -> Expr { MMFreePackage.field(f, of: seq.ir.state) }
      let opcode = m.wire("opcode", field(I.opcodeField))
      length = m.wire("length", field(I.lengthField))
      let fieldAWord = m.wire("field_a_word", field(I.aField))
      fieldB = m.wire("field_b", field(I.bField))
      let fieldDstWord = m.wire("field_dst_word", field(I.dstField))
      immediate = m.wire("immediate", field(I.immediateField))
      // Buffer addresses use the bits the buffers have.
      fieldA = m.wire("field_a", t.fit(fieldAWord, t.sType))
      fieldDst = m.wire("field_dst", t.fit(fieldDstWord, t.dstType))
      if t.sType.width < I.aField.width {
        NormDatapath.discard(m, "field_a_high", fieldAWord[I.aField.width - 1, t.sType.width])
      }
      if t.dstType.width < I.dstField.width {
        NormDatapath.discard(m, "field_dst_high", fieldDstWord[I.dstField.width - 1, t.dstType.width])
      }
      lowerBoundAddr = m.wire("lb_addr", immediate[t.pType.width - 1, 0], comment: "RECUR: immediate[15:0]")
      let layerHigh = 16 + t.config.mlgru.layerWidth - 1
      layerField = m.wire("layer_field", immediate[layerHigh, 16], comment: "RECUR: immediate[31:16]")
      func isOp(_ op: AcceleratorOpcode) -> Expr { opcode.eq(op) }
      issuing = m.wire("issuing", seq.state.inState(.issue))
      inBusy = m.wire("in_busy", seq.state.inState(.busy))
      opNorm = m.wire("op_norm", isOp(.norm))
      opQuant = m.wire("op_quant", isOp(.quantize))
      opMatVec = m.wire("op_matvec", isOp(.matVec))
      opRecur = m.wire("op_recur", isOp(.recur))
      opSiluMul = m.wire("op_silu_mul", isOp(.siluMul))
      opAdd = m.wire("op_add", isOp(.add))
      opArgmax = m.wire("op_argmax", isOp(.argmax))
      opCkpt = m.wire("op_ckpt", isOp(.checkpoint))
      opLoad = m.wire("op_load", isOp(.loadVector))
      opEmbed = m.wire("op_embed", isOp(.embed))
      opWait = m.wire("op_wait", isOp(.waitLoads))
      opSet = m.wire("op_set", isOp(.setConstant))
      opEnd = m.wire("op_end", isOp(.end))
      opWaitMatVec = m.wire("op_wait_matvec", isOp(.waitMatVec))
      usesNorm = m.wire("uses_norm", opNorm || opQuant)
      usesMLGRU = m.wire("uses_mlgru", opRecur || opSiluMul)
      usesVector = m.wire("uses_vector", opAdd || opArgmax)
      streams = m.wire("streams", usesNorm || usesMLGRU || usesVector || opCkpt, comment: "reads operands from the buffers")
      known = m.wire("known_op", opcode.lt(.literal(AcceleratorOpcode.allCases.count, .uint(4))))
      // An unknown opcode is the program's error, not the design's: ERROR reports it and the host
      // reads it, so no assertion stops the simulation on one. Checked while issuing: after the
      // last END the instruction register holds whatever follows the program (unwritten memory,
      // X in a four-state simulator).
      m.assertOneHot(
        "OpcodeDecodeOneHot",
        .concat([
          opNorm, opQuant, opMatVec, opRecur, opSiluMul, opAdd, opArgmax, opCkpt, opLoad, opEmbed, opWait, opSet, opEnd,
          opWaitMatVec,
        ]),
        allowingNone: true, when: issuing)
    }
  }
}
