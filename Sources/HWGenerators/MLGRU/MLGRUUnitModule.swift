import HWDSL
import HWSpec

/// `mlgru_unit`, assembled in the order the module declares it: the ports,
/// the vector sequencing (which beat of which vector the input holds), the
/// pipeline control (valid bits, the h hazard, the control fields carried
/// to their stages) and the lanes.
extension MLGRUUnitGenerator {
  static func unitModule(_ config: MLGRUUnitConfig, lane: Module) throws -> Module {
    let m = ModuleBuilder("mlgru_unit", comment: unitComment(config))
    let io = MLGRUUnitPorts(m, config)
    let vector = MLGRUVectorSequencing(m, config, io: io)
    let pipeline = MLGRUPipelineControl(m, config, io: io, vector: vector)
    pipeline.advance(m, config, io: io, vector: vector)
    laneArray(m, config, lane: lane, io: io, pipeline: pipeline)
    m.assign(io.outValid, pipeline.valid[8].state)
    m.assign(io.outLast, pipeline.control["last"]![9]!)
    m.assign(io.err, vector.errState.state)
    return try m.finish()
  }

  static func unitComment(_ config: MLGRUUnitConfig) -> [String] {
    let lanes = config.lanes
    return [
      "MLGRU unit: \(lanes) Q15.16 elements per cycle of recur (h = f * h_prev + c with",
      "f = lb + (1 - lb) * sigmoid(yf), c = SiLU(yi) * (1 - f), h kept on chip for \(config.maxLayers) layers",
      "x \(config.stateLength) elements), silu-mul (SiLU(a) * b) and clear. Bit-exact to MLGRUGolden.",
      "in_op_i: 0 recur, 1 recur with h_prev = 0, 2 silu-mul, 3 clear; in_op_i, in_layer_i and",
      "in_len_i are sampled with the first beat of a vector, which lasts ceil(n / \(lanes)) beats.",
      "Lane j of a beat at [32*j +: 32]. Output: one beat per input beat, \(latency) cycles later.",
      "err_o (sticky): n = 0 or > \(config.maxHidden), layer >= \(config.maxLayers), or in_last_i off the count.",
    ] + (config.shortState
      ? ["An op on h with n > \(config.stateLength) is an error too, and leaves h untouched."] : [])
  }

  /// The lanes in one generate loop, each fed stage 1's operands and the
  /// control fields at the stages that use them.
  static func laneArray(
    _ m: ModuleBuilder, _ config: MLGRUUnitConfig, lane: Module, io: MLGRUUnitPorts, pipeline p: MLGRUPipelineControl
  ) {
    let ctl = p.control
    let write = m.wire(
      "write", p.advance && p.valid[7].state && ctl["writes"]![8]!, comment: "stage 8 writes h this cycle")
    let mask8 = ctl["mask"]![8]!
    let writeLanes = m.wire("write_lanes", write.replicated(config.lanes) & mask8, comment: "lane j writes its h")
    m.generate("gen_lane", count: config.lanes) { g in
      // Signed lane values go through wires: Yosys 0.23 asserts on `$signed(...)` of a port connection.
      let x = g.wire("x", g.slice(p.x1).asSigned)
      let y = g.wire("y", g.slice(p.y1).asSigned)
      let lb = g.wire("lb", g.slice(p.lb1).asSigned)
      g.instance(lane, "u_lane", [
        ("clk_i", io.clk), ("en_i", p.advance),
        ("x_i", x), ("y_i", y), ("lb_i", lb),
        ("raddr_i", ctl["addr"]![5]!),
        ("use_prev_i", ctl["reads"]![6]!), ("sel_b_i", ctl["silu_mul"]![6]!),
        ("pass_c_i", ctl["silu_mul"]![8]!), ("zero_i", ctl["clear"]![8]!),
        ("keep_i", g.slice(mask8)), ("we_i", g.slice(writeLanes)), ("waddr_i", ctl["addr"]![8]!),
        ("res_o", g.slice(io.outData)),
      ])
    }
  }
}

/// The MLGRU unit's ports, declared in the order the module lists them.
struct MLGRUUnitPorts {
  let clk: Expr
  let inValid: Expr
  let inReady: Expr
  let inOp: Expr
  let inLayer: Expr
  let inLen: Expr
  let inX: Expr
  let inY: Expr
  let inLb: Expr
  let inLast: Expr
  let outValid: Expr
  let outReady: Expr
  let outData: Expr
  let outLast: Expr
  let err: Expr

  init(_ m: ModuleBuilder, _ config: MLGRUUnitConfig) {
    let beatBits = config.beatBits
    clk = m.clock()
    _ = m.reset()
    inValid = m.input("in_valid", .bit)
    inReady = m.output("in_ready", .bit)
    inOp = m.input("in_op", .uint(MLGRUOp.bits), comment: "first beat: 0 recur, 1 recur-fresh, 2 silu-mul, 3 clear")
    inLayer = m.input("in_layer", .uint(config.layerWidth), comment: "first beat: layer of h")
    inLen = m.input("in_len", .uint(config.lengthWidth), comment: "first beat: vector length n")
    inX = m.input("in_x", .uint(beatBits), comment: "yi (recur) or a (silu-mul)")
    inY = m.input("in_y", .uint(beatBits), comment: "yf (recur) or b (silu-mul)")
    inLb = m.input("in_lb", .uint(beatBits), comment: "lb (recur); ignored by the other ops")
    inLast = m.input("in_last", .bit, comment: "final beat of the vector; checked against in_len_i")
    outValid = m.output("out_valid", .bit)
    outReady = m.input("out_ready", .bit)
    outData = m.output("out_data", .uint(beatBits), comment: "h, SiLU(a) * b or 0; lane j at [32*j +: 32]")
    outLast = m.output("out_last", .bit, comment: "final beat of the vector")
    err = m.output("err", .bit, comment: "sticky protocol error")
  }
}

/// Which beat of which vector the input beat is: the vector's op, h address,
/// elements left and layer check, taken from the ports on a first beat and
/// from registers after it, and the header checks behind err_o.
struct MLGRUVectorSequencing {
  let busy: ModuleBuilder.RegisterHandle
  let vecOp: ModuleBuilder.RegisterHandle
  let vecAddr: ModuleBuilder.RegisterHandle
  let vecLeft: ModuleBuilder.RegisterHandle
  let vecLayerOk: ModuleBuilder.RegisterHandle
  let errState: ModuleBuilder.RegisterHandle
  let op: Expr
  let left: Expr
  let layerOk: Expr
  let addr: Expr
  let beatLast: Expr
  let mask: Expr
  let badHeader: Expr

  init(_ m: ModuleBuilder, _ config: MLGRUUnitConfig, io: MLGRUUnitPorts) {
    let lanes = config.lanes
    let addrType = HWType.uint(config.addressWidth)
    let lengthType = HWType.uint(max(config.lengthWidth, bitsToRepresent(lanes)) + 1)
    busy = m.register("busy", .bit, holds: true, comment: "inside a vector: the next beat is not a first beat")
    vecOp = m.register(
      "vec_op", .uint(MLGRUOp.bits), reset: .none, holds: true, comment: "op of the vector in progress")
    vecAddr = m.register("vec_addr", addrType, reset: .none, holds: true, comment: "h address of its next beat")
    vecLeft = m.register(
      "vec_left", lengthType, reset: .none, holds: true, comment: "elements left, from its next beat on")
    vecLayerOk = m.register(
      "vec_layer_ok", .bit, reset: .none, holds: true,
      comment: config.shortState ? "its layer index and length let it use h" : "its layer index is in range")
    errState = m.register("err_state", .bit, holds: true, comment: "a protocol error was seen")

    let first = m.wire("first", !busy.state, comment: "the beat on the input is a vector's first")
    // Range checks only where the port can hold an out-of-range value (a constant compare is a lint warning).
    let tooLong: Expr? = config.maxHidden < (1 << config.lengthWidth) - 1
      ? m.wire("too_long", io.inLen.gt(.constant(config.maxHidden, like: io.inLen))) : nil
    let lengthWide = io.inLen.extended(to: lengthType.width)
    let lengthIn = tooLong.map {
      m.wire("length_in", .mux($0, .literal(config.maxHidden, lengthType), lengthWide))
    } ?? lengthWide
    let layerInRange: Expr? = config.maxLayers < 1 << config.layerWidth
      ? m.wire("layer_ok_in", io.inLayer.lt(.constant(config.maxLayers, like: io.inLayer))) : nil
    // An op on h longer than a layer's h would reach into the next layer's: it leaves h alone.
    let stateTooLong: Expr? = config.shortState
      ? m.wire(
        "state_too_long",
        io.inOp.ne(MLGRUOp.siluMul.rawValue) && io.inLen.gt(.constant(config.stateLength, like: io.inLen)),
        comment: "an op on h longer than the \(config.stateLength) elements a layer holds")
      : nil
    // Whether the vector may use its layer's h; nil where nothing can forbid it.
    let hOkIn: Expr?
    if let stateTooLong {
      let fits = !stateTooLong
      hOkIn = m.wire("h_ok_in", layerInRange.map { $0 && fits } ?? fits, comment: "the vector may use its layer's h")
    } else {
      hOkIn = layerInRange
    }
    let layerBase = m.wire(
      "layer_base", FixedPointRTL.timesConstant(io.inLayer, config.beatsPerLayer, width: config.addressWidth),
      comment: "in_layer_i * \(config.beatsPerLayer) beats")
    op = m.wire("op", .mux(first, io.inOp, vecOp.state))
    left = m.wire("left", .mux(first, lengthIn, vecLeft.state), comment: "elements in this beat and after")
    layerOk = m.wire("layer_ok", .mux(first, hOkIn ?? .high, vecLayerOk.state))
    let firstAddr = hOkIn.map { Expr.mux($0, layerBase, .zeros(addrType)) } ?? layerBase
    addr = m.wire("addr", .mux(first, firstAddr, vecAddr.state))
    let left = self.left
    beatLast = m.wire("beat_last", left.le(.constant(lanes, like: left)))
    mask = m.wire(
      "mask", .concat((0..<lanes).reversed().map { left.gt(.constant($0, like: left)) }),
      comment: "lane j holds an element: j < left")
    var headerProblems = [io.inLen.eq(0)]
    if let tooLong { headerProblems.append(tooLong) }
    if let hOkIn { headerProblems.append(!hOkIn) }
    badHeader = m.wire("bad_header", first && headerProblems.dropFirst().reduce(headerProblems[0]) { $0 || $1 })
  }
}

/// The pipeline's control: a valid bit per stage, the stall (`advance`),
/// the read-after-write hazard on h that holds stage 1, and each control
/// field of stage 1 carried as far as its last use.
struct MLGRUPipelineControl {
  let valid: [ModuleBuilder.RegisterHandle]
  let hazard: Expr
  let advance: Expr
  let front: Expr
  let fire: Expr
  /// Field name -> stage -> the field's register at that stage.
  let control: [String: [Int: Expr]]
  let x1: Expr
  let y1: Expr
  let lb1: Expr

  /// Each field travels as far as its last use: reads to stage 6, last to 9, the rest to 8.
  static let fields: [(name: String, reach: Int)] = [
    ("reads", 6), ("writes", 8), ("silu_mul", 8), ("clear", 8), ("last", 9), ("mask", 8), ("addr", 8),
  ]

  init(_ m: ModuleBuilder, _ config: MLGRUUnitConfig, io: MLGRUUnitPorts, vector: MLGRUVectorSequencing) {
    let valid = (1...9).map { s in
      m.register("valid_s\(s)", .bit, comment: s == 1 ? "a beat is in the input registers" : nil)
    }
    self.valid = valid
    hazard = m.wire("hazard", .bit, comment: "stage 1 would read h that an earlier beat has yet to write")
    advance = m.wire("advance", !valid[8].state || io.outReady, comment: "stages 2-9 move this cycle")
    front = m.wire("front", advance && !hazard, comment: "stage 1 moves this cycle")
    fire = m.wire("fire", io.inValid && front, comment: "an input beat is taken")
    m.assign(io.inReady, front)

    let stage1 = Self.stageOneFields(m, vector: vector)
    var ctl: [String: [Int: Expr]] = [:]
    for (name, reach) in Self.fields {
      var v = FixedPointRTL.stage(m, "\(name)_s1", stage1[name]!, enable: fire)
      ctl[name] = [1: v]
      for s in 2...reach {
        v = FixedPointRTL.stage(m, "\(name)_s\(s)", v, enable: advance)
        ctl[name]![s] = v
      }
    }
    control = ctl
    let conflicts = (2...4).map { s in
      valid[s - 1].state && ctl["writes"]![s]! && ctl["addr"]![s]!.eq(ctl["addr"]![1]!)
    }
    m.assign(hazard, valid[0].state && ctl["reads"]![1]! && conflicts.dropFirst().reduce(conflicts[0]) { $0 || $1 })

    x1 = FixedPointRTL.stage(m, "x_s1", io.inX, enable: fire)
    y1 = FixedPointRTL.stage(m, "y_s1", io.inY, enable: fire)
    lb1 = FixedPointRTL.stage(m, "lb_s1", io.inLb, enable: fire)
  }

  /// The control fields of the input beat, decoded from its op.
  private static func stageOneFields(_ m: ModuleBuilder, vector v: MLGRUVectorSequencing) -> [String: Expr] {
    let isRecur = v.op.eq(MLGRUOp.recur.rawValue)
    let isSiluMul = m.wire("is_silu_mul", v.op.eq(MLGRUOp.siluMul.rawValue))
    return [
      "reads": m.wire("reads", isRecur && v.layerOk, comment: "the beat reads h"),
      "writes": m.wire("writes", !isSiluMul && v.layerOk, comment: "the beat writes h"),
      "silu_mul": isSiluMul,
      "clear": m.wire("is_clear", v.op.eq(MLGRUOp.clear.rawValue)),
      "last": v.beatLast,
      "mask": v.mask,
      "addr": v.addr,
    ]
  }

  /// The vector registers, err_o and the valid bits, cycle by cycle.
  func advance(_ m: ModuleBuilder, _ config: MLGRUUnitConfig, io: MLGRUUnitPorts, vector v: MLGRUVectorSequencing) {
    let addrType = HWType.uint(config.addressWidth)
    let valid = self.valid
    m.comb {
      If(fire) {
        Assign(v.busy.next, !v.beatLast)
        Assign(v.vecOp.next, v.op)
        Assign(v.vecAddr.next, v.addr + .literal(1, addrType))
        Assign(v.vecLeft.next, v.left - .constant(config.lanes, like: v.left))
        Assign(v.vecLayerOk.next, v.layerOk)
        If(v.badHeader || io.inLast.ne(v.beatLast)) { Assign(v.errState.next, .high) }
      }
      for s in 0..<9 { Assign(valid[s].next, valid[s].state) }
      If(front) { Assign(valid[0].next, fire) }
      If(advance) {
        Assign(valid[1].next, valid[0].state && !hazard)
        for s in 2..<9 { Assign(valid[s].next, valid[s - 1].state) }
      }
    }
  }
}
