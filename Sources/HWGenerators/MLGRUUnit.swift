import HWDSL
import HWSpec

/// The MLGRU unit: the element-wise half of the MLGRU token mixer and of the
/// GLU, `lanes` elements per cycle, bit-exact to `MLGRUGolden`.
///
/// Operations (`MLGRUOp`, on `in_op_i`):
/// - recur (0): h = recur(yf, yi, lb, h_prev) per element, h_prev from the
///   layer's h in the on-chip memory; h is written back and streamed out.
/// - recur-fresh (1): the same with h_prev = 0, for the first token of a
///   sequence (the memory is not read, only written).
/// - silu-mul (2): SiLU(a) * b (the GLU's SiLU(gate) * u, and the MLGRU
///   output gate SiLU(h) * g_norm); h untouched.
/// - clear (3): the layer's h = 0 for the vector's elements; zeros stream out.
///
/// Streams (valid/ready; a source holds a presented beat until it is taken):
/// - Input: one combined beat per `lanes` elements on three data ports,
///   `in_x_i` (yi or a: the SiLU operand), `in_y_i` (yf or b), `in_lb_i` (lb;
///   ignored by the other ops); element `lanes*i + j` of a vector in beat i,
///   lane j at bits [32*j +: 32]. `in_op_i`, `in_layer_i` and `in_len_i` (the
///   vector length n) are sampled with the first beat of a vector and ignored
///   on the others. The unit counts ceil(n / lanes) beats (one beat for n = 0);
///   `in_last_i` must mark the final one. Lanes past n in the final beat are
///   ignored: their output is 0 and their h is not written.
/// - Output: one beat per input beat, in order, `out_last_o` on the final beat
///   of a vector.
/// - `err_o` (sticky until reset) flags a protocol error: n = 0, n > maxHidden
///   (processed as maxHidden), a layer index >= maxLayers (processed with
///   h_prev = 0 and no h write), or `in_last_i` disagreeing with the count.
///
/// Reset (`rst_ni`, asynchronous, active low) empties the pipeline and ends
/// any vector in progress: the next beat is a first beat. It does not clear
/// the h memory (a block RAM has no reset): start each layer's sequence with
/// recur-fresh, or run clear, before the first recur.
///
/// Pipeline: input registers (stage 1) and eight lane stages (`mlgru_lane`),
/// one beat per cycle, `latency` cycles from an input handshake to its
/// output beat. A stalled output stalls everything; no beat is dropped. h is
/// read at the stage 5 -> 6 edge and written at the stage 8 -> 9 edge, so a
/// recur beat may only enter stage 2 when no earlier beat to the same h
/// address is in stages 2-4 (a vector of fewer than four beats followed by a
/// recur of the same layer); otherwise it waits in stage 1 and a bubble moves
/// on. Different addresses never wait.
public enum MLGRUUnitGenerator: UnitGenerator {
  public static let unitName = "mlgru unit"
  /// Cycles from an input handshake to the corresponding output beat.
  public static let latency = 1 + MLGRULaneGenerator.stages

  public static func generate(_ config: MLGRUUnitConfig) throws -> Design {
    try config.validate()
    let sigmoid = try MLGRULaneGenerator.sigmoidModule()
    let lane = try MLGRULaneGenerator.laneModule(config, sigmoid: sigmoid)
    return try Design(top: unitModule(config, lane: lane))
  }

  public static func manifestParameters(_ config: MLGRUUnitConfig) -> [(key: String, value: String)] {
    [("lanes", "\(config.lanes)"), ("maxLayers", "\(config.maxLayers)"), ("maxHidden", "\(config.maxHidden)")]
  }

  static func unitModule(_ config: MLGRUUnitConfig, lane: Module) throws -> Module {
    let lanes = config.lanes
    let beatBits = config.beatBits
    let addrType = HWType.uint(config.addressWidth)
    let m = ModuleBuilder(
      "mlgru_unit",
      comment: [
        "MLGRU unit: \(lanes) Q15.16 elements per cycle of recur (h = f * h_prev + c with",
        "f = lb + (1 - lb) * sigmoid(yf), c = SiLU(yi) * (1 - f), h kept on chip for \(config.maxLayers) layers",
        "x \(config.maxHidden) elements), silu-mul (SiLU(a) * b) and clear. Bit-exact to MLGRUGolden.",
        "in_op_i: 0 recur, 1 recur with h_prev = 0, 2 silu-mul, 3 clear; in_op_i, in_layer_i and",
        "in_len_i are sampled with the first beat of a vector, which lasts ceil(n / \(lanes)) beats.",
        "Lane j of a beat at [32*j +: 32]. Output: one beat per input beat, \(latency) cycles later.",
        "err_o (sticky): n = 0 or > \(config.maxHidden), layer >= \(config.maxLayers), or in_last_i off the count.",
      ])
    let clk = m.clock()
    _ = m.reset()
    let inValid = m.input("in_valid", .bit)
    let inReady = m.output("in_ready", .bit)
    let inOp = m.input("in_op", .uint(MLGRUOp.bits), comment: "first beat: 0 recur, 1 recur-fresh, 2 silu-mul, 3 clear")
    let inLayer = m.input("in_layer", .uint(config.layerWidth), comment: "first beat: layer of h")
    let inLen = m.input("in_len", .uint(config.lengthWidth), comment: "first beat: vector length n")
    let inX = m.input("in_x", .uint(beatBits), comment: "yi (recur) or a (silu-mul)")
    let inY = m.input("in_y", .uint(beatBits), comment: "yf (recur) or b (silu-mul)")
    let inLb = m.input("in_lb", .uint(beatBits), comment: "lb (recur); ignored by the other ops")
    let inLast = m.input("in_last", .bit, comment: "final beat of the vector; checked against in_len_i")
    let outValid = m.output("out_valid", .bit)
    let outReady = m.input("out_ready", .bit)
    let outData = m.output("out_data", .uint(beatBits), comment: "h, SiLU(a) * b or 0; lane j at [32*j +: 32]")
    let outLast = m.output("out_last", .bit, comment: "final beat of the vector")
    let err = m.output("err", .bit, comment: "sticky protocol error")

    // MARK: Vector sequencing: which beat of which vector the next input beat is.
    let lengthType = HWType.uint(max(config.lengthWidth, bitsToRepresent(lanes)) + 1)
    let busy = m.register("busy", .bit, holds: true, comment: "inside a vector: the next beat is not a first beat")
    let vecOp = m.register("vec_op", .uint(MLGRUOp.bits), reset: .none, holds: true, comment: "op of the vector in progress")
    let vecAddr = m.register("vec_addr", addrType, reset: .none, holds: true, comment: "h address of its next beat")
    let vecLeft = m.register("vec_left", lengthType, reset: .none, holds: true, comment: "elements left, from its next beat on")
    let vecLayerOk = m.register("vec_layer_ok", .bit, reset: .none, holds: true, comment: "its layer index is in range")
    let errState = m.register("err_state", .bit, holds: true, comment: "a protocol error was seen")

    let first = m.wire("first", !busy.state, comment: "the beat on the input is a vector's first")
    // Range checks only where the port can hold an out-of-range value (a constant compare is a lint warning).
    let tooLong: Expr? = config.maxHidden < (1 << config.lengthWidth) - 1
      ? m.wire("too_long", inLen.gt(.constant(config.maxHidden, like: inLen))) : nil
    let lengthWide = inLen.extended(to: lengthType.width)
    let lengthIn = tooLong.map { m.wire("length_in", .mux($0, .literal(config.maxHidden, lengthType), lengthWide)) } ?? lengthWide
    let layerOkIn: Expr? = config.maxLayers < 1 << config.layerWidth
      ? m.wire("layer_ok_in", inLayer.lt(.constant(config.maxLayers, like: inLayer))) : nil
    let layerBase = m.wire(
      "layer_base", FixedPointRTL.timesConstant(inLayer, config.beatsPerLayer, width: config.addressWidth),
      comment: "in_layer_i * \(config.beatsPerLayer) beats")
    let op = m.wire("op", .mux(first, inOp, vecOp.state))
    let left = m.wire("left", .mux(first, lengthIn, vecLeft.state), comment: "elements in this beat and after")
    let layerOk = m.wire("layer_ok", .mux(first, layerOkIn ?? .high, vecLayerOk.state))
    let firstAddr = layerOkIn.map { Expr.mux($0, layerBase, .zeros(addrType)) } ?? layerBase
    let addr = m.wire("addr", .mux(first, firstAddr, vecAddr.state))
    let beatLast = m.wire("beat_last", left.le(.constant(lanes, like: left)))
    let mask = m.wire(
      "mask", .concat((0..<lanes).reversed().map { left.gt(.constant($0, like: left)) }),
      comment: "lane j holds an element: j < left")
    var headerProblems = [inLen.eq(0)]
    if let tooLong { headerProblems.append(tooLong) }
    if let layerOkIn { headerProblems.append(!layerOkIn) }
    let badHeader = m.wire("bad_header", first && headerProblems.dropFirst().reduce(headerProblems[0]) { $0 || $1 })

    // MARK: Pipeline control.
    let valid = (1...9).map { s in m.register("valid_s\(s)", .bit, comment: s == 1 ? "a beat is in the input registers" : nil) }
    let hazard = m.wire("hazard", .bit, comment: "stage 1 would read h that an earlier beat has yet to write")
    let advance = m.wire("advance", !valid[8].state || outReady, comment: "stages 2-9 move this cycle")
    let front = m.wire("front", advance && !hazard, comment: "stage 1 moves this cycle")
    let fire = m.wire("fire", inValid && front, comment: "an input beat is taken")
    m.assign(inReady, front)

    let isRecur = op.eq(MLGRUOp.recur.rawValue)
    let isSiluMul = m.wire("is_silu_mul", op.eq(MLGRUOp.siluMul.rawValue))
    let stage1: [String: Expr] = [
      "reads": m.wire("reads", isRecur && layerOk, comment: "the beat reads h"),
      "writes": m.wire("writes", !isSiluMul && layerOk, comment: "the beat writes h"),
      "silu_mul": isSiluMul,
      "clear": m.wire("is_clear", op.eq(MLGRUOp.clear.rawValue)),
      "last": beatLast,
      "mask": mask,
      "addr": addr,
    ]
    // Each field travels as far as its last use: reads to stage 6, last to 9, the rest to 8.
    let reach = ["reads": 6, "writes": 8, "silu_mul": 8, "clear": 8, "last": 9, "mask": 8, "addr": 8]
    var ctl: [String: [Int: Expr]] = [:]
    for name in ["reads", "writes", "silu_mul", "clear", "last", "mask", "addr"] {
      var v = FixedPointRTL.stage(m, "\(name)_s1", stage1[name]!, enable: fire)
      ctl[name] = [1: v]
      for s in 2...reach[name]! {
        v = FixedPointRTL.stage(m, "\(name)_s\(s)", v, enable: advance)
        ctl[name]![s] = v
      }
    }
    let conflicts = (2...4).map { s in valid[s - 1].state && ctl["writes"]![s]! && ctl["addr"]![s]!.eq(ctl["addr"]![1]!) }
    m.assign(hazard, valid[0].state && ctl["reads"]![1]! && conflicts.dropFirst().reduce(conflicts[0]) { $0 || $1 })

    let x1 = FixedPointRTL.stage(m, "x_s1", inX, enable: fire)
    let y1 = FixedPointRTL.stage(m, "y_s1", inY, enable: fire)
    let lb1 = FixedPointRTL.stage(m, "lb_s1", inLb, enable: fire)

    m.comb {
      If(fire) {
        Assign(busy.next, !beatLast)
        Assign(vecOp.next, op)
        Assign(vecAddr.next, addr + .literal(1, addrType))
        Assign(vecLeft.next, left - .constant(lanes, like: left))
        Assign(vecLayerOk.next, layerOk)
        If(badHeader || inLast.ne(beatLast)) { Assign(errState.next, .high) }
      }
      for s in 0..<9 { Assign(valid[s].next, valid[s].state) }
      If(front) { Assign(valid[0].next, fire) }
      If(advance) {
        Assign(valid[1].next, valid[0].state && !hazard)
        for s in 2..<9 { Assign(valid[s].next, valid[s - 1].state) }
      }
    }

    // MARK: Lanes.
    let write = m.wire("write", advance && valid[7].state && ctl["writes"]![8]!, comment: "stage 8 writes h this cycle")
    let mask8 = ctl["mask"]![8]!
    let writeLanes = m.wire("write_lanes", write.replicated(lanes) & mask8, comment: "lane j writes its h")
    m.generate("gen_lane", count: lanes) { g in
      // Signed lane values go through wires: Yosys 0.23 asserts on `$signed(...)` of a port connection.
      let x = g.wire("x", g.slice(x1).asSigned)
      let y = g.wire("y", g.slice(y1).asSigned)
      let lb = g.wire("lb", g.slice(lb1).asSigned)
      g.instance(lane, "u_lane", [
        ("clk_i", clk), ("en_i", advance),
        ("x_i", x), ("y_i", y), ("lb_i", lb),
        ("raddr_i", ctl["addr"]![5]!),
        ("use_prev_i", ctl["reads"]![6]!), ("sel_b_i", ctl["silu_mul"]![6]!),
        ("pass_c_i", ctl["silu_mul"]![8]!), ("zero_i", ctl["clear"]![8]!),
        ("keep_i", g.slice(mask8)), ("we_i", g.slice(writeLanes)), ("waddr_i", ctl["addr"]![8]!),
        ("res_o", g.slice(outData)),
      ])
    }
    m.assign(outValid, valid[8].state)
    m.assign(outLast, ctl["last"]![9]!)
    m.assign(err, errState.state)
    return try m.finish()
  }
}
