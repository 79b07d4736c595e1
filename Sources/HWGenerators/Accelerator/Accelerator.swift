import HWDSL
import HWSpec

/// The token-level accelerator, `mmfree_accel`: the BitLinear datapath
/// (`matvec_datapath`: ternary core -> rescale), the RMSNorm/quantize unit,
/// the MLGRU unit and the vector unit around on-chip buffers, run by a
/// sequencer that executes an `AcceleratorProgram` (AcceleratorISA.swift).
/// A MATVEC runs on its own once started; the sequencer goes on until a
/// WAITMV, and the MATVEC's results take the scratchpad write port first.
///
/// On-chip buffers:
/// - the activation scratchpad: `scratchpadBeats` beats of `elementLanes`
///   Q15.16 elements, two copies written together so two operands read in
///   the same cycle (ports a and b);
/// - the parameter buffer: gammas and lower bounds loaded from off-chip;
/// - the activation buffer: the quantized input of a MATVEC as the core's
///   bit-plane beats (8 planes of 64 elements), packed from the norm unit's
///   int8 output, in two banks (the next QUANT fills one while a MATVEC
///   reads the other);
/// - the weight FIFO (`u_weight_fifo`, `StreamFIFOGenerator`): weight beats from
///   off-chip ahead of the core, so the memory keeps streaming while the
///   element-wise units work;
/// - the program memory.
///
/// Off-chip memory is outside: weight beats arrive on `w_*` (the memory
/// streams every MATVEC's matrix in program order, the way a descriptor-driven
/// DMA would), vector loads are requested on `vreq_*` and their data returns
/// in order on `vrsp_*`.
///
/// Host interface: the program is written through `prog_*` while idle;
/// `start_i` runs it from address 0 with fresh MLGRU state; `run_i` low makes
/// the next END halt. Each token's EMBED takes the host's `prompt_*` token
/// when offered, else the previous ARGMAX: greedy generation needs no host.
/// `token_valid_o` pulses with each generated token. Debug: CKPT streams a
/// vector out on `ckpt_*` while the rest of the accelerator holds still
/// (`ckpt_active_o`), so checkpoints cost no simulated time; the performance
/// counters (`AcceleratorCounter`) read through `perf_sel_i`/`perf_data_o`.
public enum AcceleratorGenerator: UnitGenerator {
  public static let unitName = "accelerator"
  public static let moduleName = "mmfree_accel"
  public static let tokenBits = 16
  public static let addressBits = 48
  public static let counterBits = 48
  public static let loadQueueDepth = 32

  public static func generate(_ config: AcceleratorConfig) throws -> Design {
    try validate(config)
    let datapath = try MatVecDatapathGenerator.generate(config).top
    let norm = try NormUnitGenerator.generate(config.norm).top
    let mlgru = try MLGRUUnitGenerator.generate(config.mlgru).top
    let vector = try VectorUnitGenerator.generate(VectorUnitConfig(lanes: config.elementLanes)).top
    let fifo = try StreamFIFOGenerator.generate(weightFIFO(config)).top
    return try Design(
      top: topModule(config, datapath: datapath, norm: norm, mlgru: mlgru, vector: vector, fifo: fifo),
      packages: [MMFreePackage.package])
  }

  public static func manifestParameters(_ a: AcceleratorConfig) -> [(key: String, value: String)] {
    [
      ("lanes", "\(a.lanes)"), ("elementLanes", "\(a.elementLanes)"), ("scratchpadBeats", "\(a.scratchpadBeats)"),
      ("parameterBeats", "\(a.parameterBeats)"), ("weightFIFOBeats", "\(a.weightFIFOBeats)"),
      ("programDepth", "\(a.programDepth)"), ("instructionBits", "\(AcceleratorInstruction.bits)"),
    ]
  }

  /// The top's own limits on top of `AcceleratorConfig.validate`.
  public static func validate(_ config: AcceleratorConfig) throws {
    try config.validate()
    guard config.lanes <= 64 ? 64 % config.lanes == 0 : config.lanes % 64 == 0 else {
      throw AcceleratorConfig.Invalid(
        description: "the accelerator top packs whole element beats into 64-element activation words and splits wider result beats into 64-element ones: lanes must be 1, 2, 4, 8, 16, 32, 64 or a multiple of 64, got \(config.lanes)")
    }
  }

  static func topModule(
    _ config: AcceleratorConfig, datapath: Module, norm: Module, mlgru: Module, vector: Module, fifo: Module
  ) throws -> Module {
    let e = config.elementLanes
    let beatBits = 32 * e
    let c = config.core
    let m = ModuleBuilder(
      moduleName,
      comment: [
        "MatMul-free LM accelerator: sequencer, scratchpad (\(config.scratchpadBeats) x \(beatBits) bits, two copies),",
        "parameter buffer (\(config.parameterBeats) beats), activation buffer, weight FIFO (\(config.weightFIFOBeats) beats),",
        "matvec_datapath (\(c.lanes) x \(c.laneWidth) ternary core + rescale), norm_unit, mlgru_unit, vector_unit.",
        "Instruction word: [3:0] op, [19:4] length, [35:20] a, [51:36] b, [67:52] dst, [127:68] immediate.",
      ])
    let io = TopPorts(m, config)
    let scratch0 = m.memory("scratch_a", depth: config.scratchpadBeats, .uint(beatBits))
    let scratch1 = m.memory("scratch_b", depth: config.scratchpadBeats, .uint(beatBits))
    let params = m.memory("param_mem", depth: config.parameterBeats, .uint(beatBits))
    let sType = HWType.uint(scratch0.addressWidth), pType = HWType.uint(params.addressWidth)
    /// Load destinations address either buffer.
    let dstType = HWType.uint(max(sType.width, pType.width))
    func fit(_ x: Expr, _ t: HWType) -> Expr { x.width > t.width ? x.truncated(to: t.width) : x.extended(to: t.width) }

    // MARK: Sequencer: prefetching fetch, issue, busy.
    let state = StateMachine(m, "state", reset: SequencerState.idle)
    let pc = m.register("pc", io.pcType, holds: true)
    let next = m.register("next_instr", .uint(AcceleratorInstruction.bits), reset: .none, holds: true, comment: "prefetched word")
    let nextValid = m.register("next_valid", .bit)
    let ir = m.register("instr", .uint(AcceleratorInstruction.bits), reset: .none, holds: true, comment: "executing word")
    let fresh = m.register("fresh", .bit, holds: true, comment: "the first token: MLGRU h starts at zero")
    let token = m.register("token", io.tokenType, holds: true, comment: "the last ARGMAX")
    let tokenPulse = m.register("token_pulse", .bit)
    let badOp = m.register("bad_op", .bit)
    // MATVEC runs on its own once issued (the sequencer goes on with element-wise
    // work); its results take the scratchpad write port first, the units' wait.
    let mvBusy = m.register("mv_busy", .bit, comment: "a MATVEC is running")
    let mvYValid = m.wire("mv_y_valid", .bit)
    m.write(io.programMemory, enable: io.progWe, address: io.progAddr, data: io.progData)

    typealias I = AcceleratorInstruction
    /// Field `f` of the executing word, its bounds named by `mmfree_pkg`.
    func field(_ f: I.Field) -> Expr {
      let names = MMFreePackage.constantNames(f)
      let package = MMFreePackage.name
      return ir.state.field(low: f.low, width: f.width, names: SliceNames(low: "\(package)::\(names.lsb)", width: "\(package)::\(names.width)"))
    }
    let opcode = m.wire("opcode", field(I.opcodeField))
    let length = m.wire("length", field(I.lengthField))
    let fieldAWord = m.wire("field_a_word", field(I.aField))
    let fieldB = m.wire("field_b", field(I.bField))
    let fieldDstWord = m.wire("field_dst_word", field(I.dstField))
    let immediate = m.wire("immediate", field(I.immediateField))
    // Buffer addresses use the bits the buffers have.
    let fieldA = m.wire("field_a", fit(fieldAWord, sType))
    let fieldDst = m.wire("field_dst", fit(fieldDstWord, dstType))
    if sType.width < I.aField.width { NormDatapath.discard(m, "field_a_high", fieldAWord[I.aField.width - 1, sType.width]) }
    if dstType.width < I.dstField.width {
      NormDatapath.discard(m, "field_dst_high", fieldDstWord[I.dstField.width - 1, dstType.width])
    }
    let lowerBoundAddr = m.wire("lb_addr", immediate[pType.width - 1, 0], comment: "RECUR: immediate[15:0]")
    let layerField = m.wire("layer_field", immediate[16 + config.mlgru.layerWidth - 1, 16], comment: "RECUR: immediate[31:16]")
    func isOp(_ op: AcceleratorOpcode) -> Expr { opcode.eq(op) }
    let issuing = m.wire("issuing", state.inState(.issue))
    let inBusy = m.wire("in_busy", state.inState(.busy))
    let opNorm = m.wire("op_norm", isOp(.norm))
    let opQuant = m.wire("op_quant", isOp(.quantize))
    let opMatVec = m.wire("op_matvec", isOp(.matVec))
    let opRecur = m.wire("op_recur", isOp(.recur))
    let opSiluMul = m.wire("op_silu_mul", isOp(.siluMul))
    let opAdd = m.wire("op_add", isOp(.add))
    let opArgmax = m.wire("op_argmax", isOp(.argmax))
    let opCkpt = m.wire("op_ckpt", isOp(.checkpoint))
    let opLoad = m.wire("op_load", isOp(.loadVector))
    let opEmbed = m.wire("op_embed", isOp(.embed))
    let opWait = m.wire("op_wait", isOp(.waitLoads))
    let opSet = m.wire("op_set", isOp(.setConstant))
    let opEnd = m.wire("op_end", isOp(.end))
    let opWaitMatVec = m.wire("op_wait_matvec", isOp(.waitMatVec))
    let usesNorm = m.wire("uses_norm", opNorm || opQuant)
    let usesMLGRU = m.wire("uses_mlgru", opRecur || opSiluMul)
    let usesVector = m.wire("uses_vector", opAdd || opArgmax)
    let streams = m.wire("streams", usesNorm || usesMLGRU || usesVector || opCkpt, comment: "reads operands from the buffers")
    let known = m.wire("known_op", opcode.lt(.literal(AcceleratorOpcode.allCases.count, .uint(4))))
    // An unknown opcode is the program's error, not the design's: err_o reports it and the host
    // reads it, so no assertion stops the simulation on one.
    m.assertOneHot(
      "OpcodeDecodeOneHot",
      .concat([opNorm, opQuant, opMatVec, opRecur, opSiluMul, opAdd, opArgmax, opCkpt, opLoad, opEmbed, opWait, opSet, opEnd, opWaitMatVec]),
      allowingNone: true)

    // MARK: Vector loads: request port and the queue of outstanding loads.
    let queueDepth = loadQueueDepth
    let queue = m.memory("load_queue", depth: queueDepth, .uint(1 + dstType.width + 16))
    let queuePtr = HWType.uint(queue.addressWidth)
    let queueCount = HWType.uint(bitsToRepresent(queueDepth))
    let qHead = m.register("load_head", queuePtr)
    let qTail = m.register("load_tail", queuePtr)
    let qCount = m.register("load_count", queueCount, holds: true, comment: "loads requested, data not all written")
    let embedToken = m.wire("embed_token", .mux(io.promptValid, io.promptToken, token.state))
    let rowOffset = m.wire("row_offset", .uint(32), comment: "token * length elements")
    m.assign(rowOffset, embedToken.times(length))
    let loadAddress = m.wire(
      "load_address",
      immediate[addressBits - 1, 0] + .mux(opEmbed, .concat([.zeros(.uint(addressBits - 34)), rowOffset, .zeros(.uint(2))]), .zeros(.uint(addressBits))))
    NormDatapath.discard(m, "immediate_high", immediate[AcceleratorInstruction.immediateBits - 1, addressBits])
    let requesting = m.wire("requesting", issuing && (opLoad || opEmbed) && qCount.state.ne(queueDepth))
    let requested = m.wire("requested", requesting && io.vreqReady)
    m.assign(io.vreqValidOut, requesting)
    m.assign(io.vreqAddr, loadAddress)
    m.assign(io.vreqLen, length)
    m.assign(io.promptReady, requested && opEmbed)
    m.write(queue, enable: requested, address: qTail.state, data: .concat([opEmbed, fieldDst, length]))
    let head = m.wire("load_entry", queue.read(qHead.state))
    let headToScratch = m.wire("load_to_scratch", head[dstType.width + 16])
    let headDst = m.wire("load_dst", head[dstType.width + 15, 16])
    let headLen = m.wire("load_len", head[15, 0])
    let loadBeat = m.register("load_beat", dstType, holds: true, comment: "beats of the head load written")
    let loadElems = m.register("load_elems", .uint(17), holds: true, comment: "elements of the head load written")
    let loadLastBeat = m.wire("load_last_beat", (loadElems.state + .literal(e, .uint(17))).ge(headLen.extended(to: 17)))
    let loadDone = m.wire("load_done", io.vrspValid && loadLastBeat)
    let loadAddr = m.wire("load_write_addr", headDst + loadBeat.state)
    for (name, t) in [("scratch", sType), ("param", pType)] where t.width < dstType.width {
      NormDatapath.discard(m, "load_addr_\(name)", loadAddr[dstType.width - 1, t.width])
    }
    m.comb {
      Assign(qTail.next, .mux(requested, qTail.state + .literal(1, queuePtr), qTail.state))
      Assign(qHead.next, .mux(loadDone, qHead.state + .literal(1, queuePtr), qHead.state))
      If(requested && !loadDone) { Assign(qCount.next, qCount.state + .literal(1, queueCount)) }
      If(loadDone && !requested) { Assign(qCount.next, qCount.state - .literal(1, queueCount)) }
      If(io.vrspValid) {
        Assign(loadBeat.next, .mux(loadLastBeat, .zeros(dstType), loadBeat.state + .literal(1, dstType)))
        Assign(loadElems.next, .mux(loadLastBeat, .zeros(.uint(17)), loadElems.state + .literal(e, .uint(17))))
      }
    }
    let waitSatisfied = m.wire("wait_satisfied", qCount.state.extended(to: 60).le(immediate))

    // MARK: Constant registers (SETC).
    let epsTerm = m.register("eps_term", .uint(64), reset: .none, holds: true)
    let sqrtMantissa = m.register("sqrt_len_mantissa", .uint(32), reset: .none, holds: true)
    let sqrtExponent = m.register("sqrt_len_exponent", .sint(NormUnitConfig.sqrtLengthExponentBits), reset: .none, holds: true)
    let betaMantissa = m.register("beta_mantissa", .uint(32), reset: .none, holds: true)
    let betaExponent = m.register("beta_exponent", .sint(NormUnitConfig.betaExponentBits), reset: .none, holds: true)
    let setting = m.wire("setting", issuing && opSet)
    m.comb {
      If(setting && fieldB.eq(AcceleratorConstant.epsTerm.rawValue)) {
        Assign(epsTerm.next, immediate.extended(to: 64))
      }
      If(setting && fieldB.eq(AcceleratorConstant.sqrtLength.rawValue)) {
        Assign(sqrtMantissa.next, immediate[31, 0])
        Assign(sqrtExponent.next, immediate[31 + NormUnitConfig.sqrtLengthExponentBits, 32].asSigned)
      }
      If(setting && fieldB.eq(AcceleratorConstant.beta.rawValue)) {
        Assign(betaMantissa.next, immediate[31, 0])
        Assign(betaExponent.next, immediate[31 + NormUnitConfig.betaExponentBits, 32].asSigned)
      }
    }

    // MARK: Operand fetch: beats of a, b (scratchpad copies 0 and 1) and p (parameters) in lockstep.
    let readA = m.register("read_a", sType, holds: true)
    let readB = m.register("read_b", sType, holds: true)
    let readP = m.register("read_p", pType, holds: true)
    let readLeft = m.register("read_left", .uint(17), holds: true, comment: "elements still to read")
    let opA = m.register("operand_a", .uint(beatBits), reset: .none, holds: true)
    let opB = m.register("operand_b", .uint(beatBits), reset: .none, holds: true)
    let opP = m.register("operand_p", .uint(beatBits), reset: .none, holds: true)
    let opValid = m.register("operand_valid", .bit)
    let opLast = m.register("operand_last", .bit, reset: .none, holds: true)
    let consumerReady = m.wire("consumer_ready", .bit, comment: "the active unit takes the operand beat")
    let pop = m.wire("operand_pop", opValid.state && consumerReady)
    let fetchBeat = m.wire(
      "operand_fetch", inBusy && streams && readLeft.state.ne(0) && (!opValid.state || pop))
    // A checkpoint waits for a running MATVEC, so that it finds the accelerator idle.
    let startStream = m.wire("start_stream", issuing && streams && !(opCkpt && mvBusy.state))
    let eWide = Expr.literal(e, .uint(17))
    m.comb {
      Assign(opValid.next, opValid.state && !pop)
      If(startStream) {
        Assign(readA.next, fieldA)
        Assign(readB.next, fit(fieldB, sType))
        Assign(readP.next, .mux(opRecur, fit(lowerBoundAddr, pType), fit(fieldB, pType)))
        Assign(readLeft.next, length.extended(to: 17))
      }
      If(fetchBeat) {
        Assign(opA.next, scratch0.read(readA.state))
        Assign(opB.next, scratch1.read(readB.state))
        Assign(opP.next, params.read(readP.state))
        Assign(opValid.next, .high)
        Assign(opLast.next, readLeft.state.le(eWide))
        Assign(readA.next, readA.state + .literal(1, sType))
        Assign(readB.next, readB.state + .literal(1, sType))
        Assign(readP.next, readP.state + .literal(1, pType))
        Assign(readLeft.next, .mux(readLeft.state.le(eWide), .zeros(.uint(17)), readLeft.state - eWide))
      }
    }

    // MARK: Units.
    let normReady = m.wire("norm_x_ready", .bit)
    let normGReady = m.wire("norm_g_ready", .bit)
    let normYValid = m.wire("norm_y_valid", .bit)
    let normYLast = m.wire("norm_y_last", .bit)
    let normY = m.wire("norm_y_data", .uint(beatBits))
    let normQ = m.wire("norm_q_data", .uint(8 * e))
    let normScaleM = m.wire("norm_scale_mantissa", .uint(32))
    let normScaleE = m.wire("norm_scale_exponent", .sint(NormUnitConfig.scaleExponentBits))
    let normValid = m.wire("norm_valid", opValid.state && inBusy && usesNorm)
    let normYReady = m.wire("norm_y_ready", !(opNorm && mvYValid), comment: "QUANT's output goes to the packer, never blocked")
    m.instance(norm, "u_norm", [
      ("clk_i", io.clk), ("rst_ni", io.rst),
      ("x_valid_i", normValid), ("x_ready_o", normReady), ("x_data_i", opA.state), ("x_last_i", opLast.state),
      ("g_valid_i", normValid), ("g_ready_o", normGReady), ("g_data_i", opP.state),
      ("mode_i", opQuant), ("length_i", fit(length, .uint(config.norm.lengthBits))),
      ("eps_term_i", epsTerm.state), ("sqrt_len_mantissa_i", sqrtMantissa.state), ("sqrt_len_exponent_i", sqrtExponent.state),
      ("beta_mantissa_i", betaMantissa.state), ("beta_exponent_i", betaExponent.state),
      ("y_valid_o", normYValid), ("y_ready_i", normYReady), ("y_last_o", normYLast), ("y_data_o", normY),
      ("q_data_o", normQ), ("scale_mantissa_o", normScaleM), ("scale_exponent_o", normScaleE),
    ])
    NormDatapath.discard(m, "norm_g_ready", normGReady)

    let mlgruReady = m.wire("mlgru_in_ready", .bit)
    let mlgruOutValid = m.wire("mlgru_out_valid", .bit)
    let mlgruOut = m.wire("mlgru_out_data", .uint(beatBits))
    let mlgruOutLast = m.wire("mlgru_out_last", .bit)
    let mlgruErr = m.wire("mlgru_err", .bit)
    let mlgruOp = m.wire(
      "mlgru_op",
      .mux(opRecur, .mux(fresh.state, .literal(MLGRUOp.recurFresh.rawValue, .uint(MLGRUOp.bits)), .literal(MLGRUOp.recur.rawValue, .uint(MLGRUOp.bits))),
           .literal(MLGRUOp.siluMul.rawValue, .uint(MLGRUOp.bits))))
    m.instance(mlgru, "u_mlgru", [
      ("clk_i", io.clk), ("rst_ni", io.rst),
      ("in_valid_i", opValid.state && inBusy && usesMLGRU), ("in_ready_o", mlgruReady), ("in_op_i", mlgruOp),
      ("in_layer_i", fit(layerField, .uint(config.mlgru.layerWidth))),
      ("in_len_i", fit(length, .uint(config.mlgru.lengthWidth))),
      ("in_x_i", opA.state), ("in_y_i", opB.state), ("in_lb_i", opP.state), ("in_last_i", opLast.state),
      ("out_valid_o", mlgruOutValid), ("out_ready_i", !mvYValid), ("out_data_o", mlgruOut), ("out_last_o", mlgruOutLast),
      ("err_o", mlgruErr),
    ])

    let vectorReady = m.wire("vector_in_ready", .bit)
    let vectorOutValid = m.wire("vector_out_valid", .bit)
    let vectorOut = m.wire("vector_out_data", .uint(beatBits))
    let vectorOutLast = m.wire("vector_out_last", .bit)
    let vectorIndex = m.wire("vector_out_index", .uint(16))
    let vectorMax = m.wire("vector_out_max", .sint(32))
    let vectorOutReady = m.wire("vector_out_ready", !(opAdd && mvYValid), comment: "ARGMAX writes nothing, never blocked")
    m.instance(vector, "u_vector", [
      ("clk_i", io.clk), ("rst_ni", io.rst),
      ("in_valid_i", opValid.state && inBusy && usesVector), ("in_ready_o", vectorReady), ("in_op_i", opArgmax),
      ("in_len_i", length), ("in_a_i", opA.state), ("in_b_i", opB.state), ("in_last_i", opLast.state),
      ("out_valid_o", vectorOutValid), ("out_ready_i", vectorOutReady), ("out_data_o", vectorOut), ("out_last_o", vectorOutLast),
      ("out_index_o", vectorIndex), ("out_max_o", vectorMax),
    ])
    NormDatapath.discard(m, "vector_max", vectorMax)

    m.assign(
      consumerReady,
      .mux(usesNorm, normReady, .mux(usesMLGRU, mlgruReady, .mux(usesVector, vectorReady, io.ckptReady && opCkpt))))

    // MARK: Activation packer: int8 beats -> 64-element bit-plane words.
    let slots = 64 / e
    // Two banks: a QUANT fills one while the running MATVEC reads the other.
    let abufDepth = c.maxInputs / c.laneWidth
    let abuf = [0, 1].map { m.memory("act_buf_\($0)", depth: abufDepth, .uint(c.activationBeatBits)) }
    let abufType = HWType.uint(abuf[0].addressWidth)
    let quantBank = m.register("quant_bank", .bit, comment: "the bank the last QUANT filled")
    let slotType = HWType.uint(max(1, bitsToRepresent(slots - 1)))
    let packSlot = m.register("pack_slot", slotType, holds: true, comment: "the slot of the word the next int8 beat fills")
    let packWord = m.register("pack_word", abufType, holds: true, comment: "activation word being packed")
    let packed = (0..<slots).map { k in m.register("pack_\(k)", .uint(8 * e), reset: .none, comment: k == 0 ? "slot k: plane b at [\(e)*b +: \(e)]" : nil) }
    let quantBeat = m.wire("quant_beat", normYValid && opQuant)
    // Plane b of the incoming beat: bit b of every lane.
    let incoming = m.wire(
      "quant_planes",
      .concat((0..<8).reversed().map { b in .concat((0..<e).reversed().map { j in normQ[8 * j + b] }) }))
    let slotIsLast = slots == 1 ? Expr.high : packSlot.state.eq(slots - 1)
    let wordDone = m.wire("pack_word_done", quantBeat && (slotIsLast || normYLast))
    let slotValues = (0..<slots).map { k in
      slots == 1 ? incoming : m.wire("pack_in_\(k)", .mux(packSlot.state.eq(k), incoming, packed[k].state))
    }
    func slotValue(_ k: Int) -> Expr { slotValues[k] }
    // The word: plane b holds slots 0..<slots (slot k at bits [e*k +: e] of the plane).
    let wordValue = m.wire(
      "pack_word_data",
      .concat((0..<8).reversed().flatMap { b in (0..<slots).reversed().map { k in slotValue(k)[e * b + e - 1, e * b] } }))
    m.write(abuf[0], enable: wordDone && !quantBank.state, address: packWord.state, data: wordValue)
    m.write(abuf[1], enable: wordDone && quantBank.state, address: packWord.state, data: wordValue)
    m.comb {
      for k in 0..<slots { Assign(packed[k].next, packed[k].state) }
      Assign(quantBank.next, .mux(issuing && opQuant, !quantBank.state, quantBank.state))
      If(issuing && opQuant) {
        Assign(packSlot.next, .zeros(slotType))
        Assign(packWord.next, .zeros(abufType))
        for k in 0..<slots { Assign(packed[k].next, .zeros(.uint(8 * e))) }
      }
      If(quantBeat) {
        for k in 0..<slots { Assign(packed[k].next, .mux(wordDone, .zeros(.uint(8 * e)), slotValue(k))) }
        if slots > 1 {
          Assign(packSlot.next, .mux(wordDone, .zeros(slotType), packSlot.state + .literal(1, slotType)))
        }
        Assign(packWord.next, .mux(wordDone, packWord.state + .literal(1, abufType), packWord.state))
      }
    }
    let scaleMantissa = m.register("scale_mantissa", .uint(32), reset: .none, comment: "the last QUANT's output scale")
    let scaleExponent = m.register("scale_exponent", .sint(NormUnitConfig.scaleExponentBits), reset: .none)
    m.comb {
      Assign(scaleMantissa.next, .mux(quantBeat && normYLast, normScaleM, scaleMantissa.state))
      Assign(scaleExponent.next, .mux(quantBeat && normYLast, normScaleE, scaleExponent.state))
    }

    // MARK: MATVEC: activation words against the weight stream.
    let groupType = HWType.uint(MatVecDatapathGenerator.groupWidth)
    let mvChunk = m.register("mv_chunk", abufType, holds: true)
    let mvGroup = m.register("mv_group", groupType, holds: true)
    let mvAct = m.register("mv_act", .uint(c.activationBeatBits), reset: .none, holds: true, comment: "act_buf[mv_chunk]")
    let mvActValid = m.register("mv_act_valid", .bit, holds: true)
    let mvChunks = m.register("mv_chunks", abufType, reset: .none, comment: "64-column words of the matrix")
    let mvGroups = m.register("mv_groups", groupType, reset: .none, comment: "row groups of the matrix")
    let mvBank = m.register("mv_bank", .bit, reset: .none, comment: "the activation bank it reads")
    let mvPtr = m.register("mv_ptr", sType, comment: "scratchpad beat its next result goes to")
    let mvScaleMantissa = m.register("mv_scale_mantissa", .uint(32), reset: .none, comment: "its QUANT's output scale")
    let mvScaleExponent = m.register("mv_scale_exponent", .sint(NormUnitConfig.scaleExponentBits), reset: .none)
    let chunks = mvChunks.state, groups = mvGroups.state
    let fifoValid = m.wire("wf_valid", .bit)
    let fifoReady = m.wire("wf_ready", .bit)
    let fifoData = m.wire("wf_data", .uint(c.weightBeatBits))
    let aReady = m.wire("mv_a_ready", .bit)
    let mvY = m.wire("mv_y_data", .uint(beatBits))
    let mvYLast = m.wire("mv_y_last", .bit)
    let perfBeats = m.wire("mv_perf_beats", .uint(32))
    let perfStalls = m.wire("mv_perf_stalls", .uint(32))
    NormDatapath.discard(m, "mv_perf", .concat([perfBeats, perfStalls]))
    let chunkLast = m.wire("mv_chunk_last", mvChunk.state.eq(chunks - .literal(1, abufType)))
    let groupLast = m.wire("mv_group_last", mvGroup.state.eq(groups - .literal(1, groupType)))
    let mvFire = m.wire("mv_fire", mvActValid.state && aReady)
    let startMatVec = m.wire("start_matvec", issuing && opMatVec && !mvBusy.state)
    let mvDone = m.wire("mv_done", mvYValid && mvYLast)
    func actWord(_ bank: Expr, _ chunk: Expr) -> Expr { .mux(bank, abuf[1].read(chunk), abuf[0].read(chunk)) }
    let nextChunk = m.wire("mv_next_chunk", .mux(chunkLast, .zeros(abufType), mvChunk.state + .literal(1, abufType)))
    m.comb {
      Assign(mvBusy.next, .mux(startMatVec, .high, mvBusy.state && !mvDone))
      Assign(mvChunks.next, .mux(startMatVec, fit(fieldB, abufType), mvChunks.state))
      Assign(mvGroups.next, .mux(startMatVec, fit(length, groupType), mvGroups.state))
      Assign(mvBank.next, .mux(startMatVec, quantBank.state, mvBank.state))
      Assign(mvScaleMantissa.next, .mux(startMatVec, scaleMantissa.state, mvScaleMantissa.state))
      Assign(mvScaleExponent.next, .mux(startMatVec, scaleExponent.state, mvScaleExponent.state))
      Assign(mvPtr.next, .mux(startMatVec, fit(fieldDst, sType), .mux(mvYValid, mvPtr.state + .literal(1, sType), mvPtr.state)))
      If(startMatVec) {
        Assign(mvChunk.next, .zeros(abufType))
        Assign(mvGroup.next, .zeros(groupType))
        Assign(mvAct.next, actWord(quantBank.state, .zeros(abufType)))
        Assign(mvActValid.next, .high)
      }
      If(mvFire) {
        Assign(mvChunk.next, nextChunk)
        Assign(mvGroup.next, .mux(chunkLast, mvGroup.state + .literal(1, groupType), mvGroup.state))
        Assign(mvAct.next, actWord(mvBank.state, nextChunk))
        Assign(mvActValid.next, !(chunkLast && groupLast))
      }
    }
    m.instance(fifo, "u_weight_fifo", [
      ("clk_i", io.clk), ("rst_ni", io.rst),
      ("in_valid_i", io.wValid), ("in_ready_o", io.wReady), ("in_data_i", io.wData),
      ("out_valid_o", fifoValid), ("out_ready_i", fifoReady && mvActValid.state), ("out_data_o", fifoData),
      ("hold_i", io.ckptActive), ("level_o", io.wLevel),
    ])
    m.instance(datapath, "u_matvec", [
      ("clk_i", io.clk), ("rst_ni", io.rst),
      ("w_valid_i", fifoValid && mvActValid.state), ("w_ready_o", fifoReady), ("w_data_i", fifoData), ("w_last_i", chunkLast),
      ("a_valid_i", mvActValid.state), ("a_ready_o", aReady), ("a_data_i", mvAct.state),
      ("scale_mantissa_i", mvScaleMantissa.state), ("scale_exponent_i", mvScaleExponent.state), ("groups_i", groups),
      ("y_valid_o", mvYValid), ("y_ready_i", Expr.high), ("y_data_o", mvY), ("y_last_o", mvYLast),
      ("perf_beats_o", perfBeats), ("perf_stalls_o", perfStalls),
    ])

    // MARK: Scratchpad writes: unit results at dst, or an embedding row from memory.
    let writePtr = m.register("write_ptr", sType, holds: true, comment: "scratchpad beat the next unit result goes to")
    let normWrite = m.wire("norm_write", normYValid && normYReady && opNorm)
    let mlgruWrite = m.wire("mlgru_write", mlgruOutValid && !mvYValid && usesMLGRU)
    let vectorWrite = m.wire("vector_write", vectorOutValid && vectorOutReady && opAdd)
    let unitWrite = m.wire("unit_write", normWrite || mlgruWrite || vectorWrite)
    let unitData = m.wire("unit_data", .mux(normWrite, normY, .mux(mlgruWrite, mlgruOut, vectorOut)))
    // The program never overlaps the two: EMBED is followed by WAITV 0 before any unit writes.
    let loadWrite = m.wire("load_write", io.vrspValid && headToScratch)
    let paramWrite = m.wire("param_write", io.vrspValid && !headToScratch)
    let scratchWrite = m.wire("scratch_write", mvYValid || unitWrite || loadWrite)
    let scratchAddr = m.wire(
      "scratch_addr", .mux(mvYValid, mvPtr.state, .mux(unitWrite, writePtr.state, fit(loadAddr, sType))))
    let scratchData = m.wire("scratch_data", .mux(mvYValid, mvY, .mux(unitWrite, unitData, io.vrspData)))
    m.write(scratch0, enable: scratchWrite, address: scratchAddr, data: scratchData)
    m.write(scratch1, enable: scratchWrite, address: scratchAddr, data: scratchData)
    m.write(params, enable: paramWrite, address: fit(loadAddr, pType), data: io.vrspData)
    m.comb {
      If(issuing) { Assign(writePtr.next, fit(fieldDst, sType)) }
      If(unitWrite) { Assign(writePtr.next, writePtr.state + .literal(1, sType)) }
    }

    // MARK: Completion and control.
    let streamDone = m.wire(
      "stream_done",
      inBusy
        && ((usesNorm && normYValid && normYReady && normYLast)
          || (usesMLGRU && mlgruOutValid && !mvYValid && mlgruOutLast)
          || (usesVector && vectorOutValid && vectorOutReady && vectorOutLast)
          || (opCkpt && pop && opLast.state)))
    let quickDone = m.wire(
      "quick_done",
      issuing
        && (opSet || opEnd || ((opLoad || opEmbed) && requested) || (opWait && waitSatisfied)
          || ((opMatVec || opWaitMatVec) && !mvBusy.state) || !known))
    let finish = m.wire("finish", streamDone || quickDone)
    let running = m.wire("running", !state.inState(.idle))
    let jump = m.wire("jump", finish && opEnd)
    let consume = m.wire(
      "consume", nextValid.state && (state.inState(.fetch) || (finish && !opEnd)), comment: "next_instr -> instr")
    let fetch = m.wire("fetch", running && !jump && (!nextValid.state || consume))
    m.comb {
      Assign(nextValid.next, nextValid.state && !consume)
      Assign(tokenPulse.next, .low)
      Assign(badOp.next, badOp.state || (issuing && !known))
      If(fetch) {
        Assign(next.next, io.programMemory.read(pc.state))
        Assign(nextValid.next, .high)
        Assign(pc.next, pc.state + .literal(1, io.pcType))
      }
      If(consume) {
        Assign(ir.next, next.state)
        state.goTo(.issue)
      }
      If(startStream) { state.goTo(.busy) }
      If(finish && !opEnd && !nextValid.state) { state.goTo(.fetch) }
      If(jump) {
        Assign(fresh.next, .low)
        Assign(nextValid.next, .low)
        Assign(pc.next, fit(immediate, io.pcType))
        If(io.run) { state.goTo(.fetch) }.Else { state.goTo(.idle) }
      }
      If(inBusy && opArgmax && vectorOutValid && vectorOutLast) {
        Assign(token.next, vectorIndex)
        Assign(tokenPulse.next, .high)
      }
      If(state.inState(.idle) && io.start) {
        Assign(pc.next, .zeros(io.pcType))
        Assign(nextValid.next, .low)
        Assign(fresh.next, .high)
        state.goTo(.fetch)
      }
    }
    m.assign(io.busy, running)
    m.assign(io.tokenValid, tokenPulse.state)
    m.assign(io.tokenOut, token.state)
    m.assign(io.err, badOp.state || mlgruErr)
    m.assign(io.ckptValid, inBusy && opCkpt && opValid.state)
    m.assign(io.ckptData, opA.state)
    m.assign(io.ckptLast, opLast.state)
    m.assign(io.ckptTag, immediate[15, 0])
    m.assign(io.ckptActive, (startStream || inBusy) && opCkpt)

    // MARK: Performance counters (AcceleratorCounter order).
    let counted = m.wire("counted", running && !io.ckptActive, comment: "cycles that count: running, not in a checkpoint")
    let elementwise = m.wire("in_elementwise", inBusy && (usesNorm || usesMLGRU || usesVector))
    let events: [(AcceleratorCounter, Expr, Expr)] = [
      (.cycles, counted, .literal(1, .uint(8))),
      (.matVecCycles, counted && mvBusy.state, .literal(1, .uint(8))),
      (.weightStallCycles, counted && mvBusy.state && mvActValid.state && !fifoValid, .literal(1, .uint(8))),
      (.loadWaitCycles, counted && !mvBusy.state && issuing && ((opWait && !waitSatisfied) || ((opLoad || opEmbed) && !requested)), .literal(1, .uint(8))),
      (.elementwiseCycles, counted && !mvBusy.state && elementwise, .literal(1, .uint(8))),
      (.weightBeats, fifoValid && fifoReady && mvActValid.state, .literal(1, .uint(8))),
      (.normBeats, normValid && normReady, .literal(1, .uint(8))),
      (.mlgruBeats, opValid.state && inBusy && usesMLGRU && mlgruReady, .literal(1, .uint(8))),
      (.vectorBeats, opValid.state && inBusy && usesVector && vectorReady, .literal(1, .uint(8))),
      (.scratchpadReadBeats, fetchBeat && !opCkpt, .literal(2, .uint(8))),
      (.scratchpadWriteBeats, scratchWrite, .literal(2, .uint(8))),
      (.parameterReadBeats, fetchBeat && (usesNorm || opRecur), .literal(1, .uint(8))),
      (.parameterWriteBeats, paramWrite, .literal(1, .uint(8))),
      (.activationWordWrites, wordDone, .literal(1, .uint(8))),
      (.activationWordReads, startMatVec || mvFire, .literal(1, .uint(8))),
      (.weightFIFOWrites, io.wValid && io.wReady, .literal(1, .uint(8))),
      (.instructions, finish && counted, .literal(1, .uint(8))),
      (.checkpointCycles, io.ckptActive, .literal(1, .uint(8))),
      (.hiddenElementwiseCycles, counted && mvBusy.state && elementwise, .literal(1, .uint(8))),
    ]
    precondition(events.map(\.0) == AcceleratorCounter.allCases, "counter list out of order")
    let counterType = HWType.uint(counterBits)
    var values: [Expr] = []
    for (counter, event, step) in events {
      let r = m.register("perf_\(counter.rtlName)", counterType)
      m.assign(r.next, .mux(event, r.state + step.extended(to: counterBits), r.state))
      values.append(r.state)
    }
    let selected = m.wire("perf_selected", .uint(counterBits))
    m.comb {
      Assign(selected, .zeros(counterType))
      Switch(io.perfSel, cases: values.enumerated().map { item in (values: [item.offset], body: [Assign(selected, item.element)]) },
             default: [Assign(selected, .zeros(counterType))])
    }
    m.assign(io.perfData, selected.extended(to: 64))
    return try m.finish()
  }
}

/// The sequencer's states: prefetch (`fetch`), decode and start (`issue`),
/// and wait for the instruction's unit (`busy`).
enum SequencerState: Int, CaseIterable, HardwareEnum {
  case idle, fetch, issue, busy
  static let hardwareName = "state"
  static let valuePrefix = "St"
}

extension AcceleratorGenerator {
  /// The top's ports (and its program memory), declared in the order the
  /// module lists them.
  struct TopPorts {
    let clk: Expr
    let rst: Expr
    let programMemory: ModuleBuilder.MemoryHandle
    let pcType: HWType
    let progWe: Expr
    let progAddr: Expr
    let progData: Expr
    let start: Expr
    let run: Expr
    let busy: Expr
    let tokenType: HWType
    let promptValid: Expr
    let promptReady: Expr
    let promptToken: Expr
    let tokenValid: Expr
    let tokenOut: Expr
    let wValid: Expr
    let wReady: Expr
    let wData: Expr
    let levelType: HWType
    let wLevel: Expr
    let vreqReady: Expr
    let vreqValidOut: Expr
    let vreqAddr: Expr
    let vreqLen: Expr
    let vrspValid: Expr
    let vrspData: Expr
    let ckptValid: Expr
    let ckptReady: Expr
    let ckptData: Expr
    let ckptLast: Expr
    let ckptTag: Expr
    let ckptActive: Expr
    let perfSel: Expr
    let perfData: Expr
    let err: Expr

    init(_ m: ModuleBuilder, _ config: AcceleratorConfig) {
      let beatBits = 32 * config.elementLanes
      let c = config.core
      clk = m.clock()
      rst = m.reset()
      programMemory = m.memory("prog_mem", depth: config.programDepth, .uint(AcceleratorInstruction.bits))
      pcType = HWType.uint(programMemory.addressWidth)
      progWe = m.input("prog_we", .bit, comment: "write the program (while idle)")
      progAddr = m.input("prog_addr", pcType)
      progData = m.input("prog_data", .uint(AcceleratorInstruction.bits))
      start = m.input("start", .bit, comment: "run the program from address 0 with fresh state")
      run = m.input("run", .bit, comment: "low: halt at the next END")
      busy = m.output("busy", .bit)
      tokenType = HWType.uint(tokenBits)
      promptValid = m.input("prompt_valid", .bit, comment: "a prompt token for the next EMBED")
      promptReady = m.output("prompt_ready", .bit)
      promptToken = m.input("prompt_token", tokenType)
      tokenValid = m.output("token_valid", .bit, comment: "pulse: ARGMAX produced token_o")
      tokenOut = m.output("token", tokenType)
      wValid = m.input("w_valid", .bit)
      wReady = m.output("w_ready", .bit)
      wData = m.input("w_data", .uint(c.weightBeatBits))
      levelType = HWType.uint(bitsToRepresent(config.weightFIFOBeats + 1))
      wLevel = m.output("w_level", levelType, comment: "weight beats held on chip")
      vreqReady = m.input("vreq_ready", .bit)
      vreqValidOut = m.output("vreq_valid", .bit)
      vreqAddr = m.output("vreq_addr", .uint(addressBits), comment: "byte address")
      vreqLen = m.output("vreq_len", .uint(AcceleratorInstruction.lengthBits), comment: "Q15.16 elements")
      vrspValid = m.input("vrsp_valid", .bit, comment: "a beat of the oldest outstanding load")
      vrspData = m.input("vrsp_data", .uint(beatBits))
      ckptValid = m.output("ckpt_valid", .bit)
      ckptReady = m.input("ckpt_ready", .bit)
      ckptData = m.output("ckpt_data", .uint(beatBits))
      ckptLast = m.output("ckpt_last", .bit)
      ckptTag = m.output("ckpt_tag", .uint(16))
      ckptActive = m.output("ckpt_active", .bit, comment: "a CKPT runs: the host excludes this cycle")
      perfSel = m.input("perf_sel", .uint(5))
      perfData = m.output("perf_data", .uint(64))
      err = m.output("err", .bit, comment: "sticky: unknown opcode or an MLGRU protocol error")
    }
  }
}
