import HWDSL
import HWSpec

/// The ternary accumulate-only matrix core.
///
/// `lanes` output rows are computed in parallel. Every cycle a weight beat
/// (`laneWidth` 2-bit ternary codes per lane) is joined with an activation
/// beat (`laneWidth` int8 values, shared by all lanes); each lane adds,
/// subtracts or skips each activation (popcounts over bit planes, or an
/// adder tree: `TernaryCoreConfig.Reduction`), registers the partial sum,
/// and adds it to its accumulator. The weight beat that ends a
/// row group carries `w_last_i`; its sums leave on the result stream, one
/// accumulator per lane. There is no multiplier anywhere: a ternary product is
/// a 2:1 choice between `a` and `-a`, gated by the non-zero bit.
///
/// Pipeline: join -> input registers -> adder tree -> partial-sum register ->
/// accumulator -> result register. A full result register that the consumer does not take
/// stalls the whole pipeline (`advance`), so no beat is ever dropped.
public enum TernaryCoreGenerator: UnitGenerator {
  public static let unitName = "ternary core"

  public static func manifestParameters(_ core: TernaryCoreConfig) -> [(key: String, value: String)] {
    [
      ("lanes", "\(core.lanes)"), ("laneWidth", "\(core.laneWidth)"), ("maxInputs", "\(core.maxInputs)"),
      ("reduction", "\"\(core.reduction.rawValue)\""), ("activationBits", "\(ActivationFormat.bits)"),
      ("weightBits", "\(TernaryEncoding.bitsPerWeight)"), ("partialSumWidth", "\(core.partialSumWidth)"),
      ("accumulatorWidth", "\(core.accumulatorWidth)"), ("weightBeatBits", "\(core.weightBeatBits)"),
      ("activationBeatBits", "\(core.activationBeatBits)"), ("resultBeatBits", "\(core.resultBeatBits)"),
    ]
  }

  /// The core's files are the ones `hwgen emit` writes, so they carry its header.
  public static func header(_ core: TernaryCoreConfig) -> [String] { UnitsBundle.header(core) }

  public static func generate(_ config: TernaryCoreConfig) throws -> Design {
    try config.validate()
    let lane = try laneModule(config)
    return try Design(top: coreModule(config, lane: lane))
  }

  /// One lane: the reduction of `laneWidth` ternary products, a partial-sum
  /// register, the accumulator and the result register.
  static func laneModule(_ config: TernaryCoreConfig) throws -> Module {
    let w = config.laneWidth
    let m = ModuleBuilder(
      "ternary_lane",
      comment: [
        "One output row of the ternary core: \(w) ternary products per cycle reduced by",
        config.reduction == .popcount
          ? "popcounts over the activation bit planes, then a \(config.accumulatorWidth)-bit accumulator. No multipliers."
          : "a balanced adder tree, then a \(config.accumulatorWidth)-bit accumulator. No multipliers.",
      ])
    _ = m.clock()
    _ = m.reset()
    let weights = m.input("weights", .uint(2 * w), comment: "[\(w - 1):0] non-zero plane, [\(2 * w - 1):\(w)] negative plane")
    let acts = m.input("acts", .uint(8 * w), comment: "activation bit planes, plane b at [\(w)*b +: \(w)]")
    let load = m.input("load", .bit, comment: "capture this beat's partial sum")
    let accumulate = m.input("accumulate", .bit, comment: "add the held partial sum")
    let last = m.input("last", .bit, comment: "the held partial sum ends the row")
    let result = m.output("result", .sint(config.accumulatorWidth))

    let psumType = HWType.sint(config.partialSumWidth)
    let nonZero = m.wire("non_zero", weights[w - 1, 0])
    let negative = m.wire("negative", weights[2 * w - 1, w])
    let beatSum: Expr
    switch config.reduction {
    case .popcount: beatSum = popcountReduction(m, config, nonZero: nonZero, negative: negative, acts: acts)
    case .adderTree: beatSum = adderTreeReduction(m, config, nonZero: nonZero, negative: negative, acts: acts)
    }
    precondition(beatSum.type == psumType, "reduction width disagrees with TernaryCoreConfig.partialSumWidth")

    let psum = m.register("psum", psumType, reset: .none, holds: true, comment: "partial sum of the beat in flight")
    let acc = m.register("acc", .sint(config.accumulatorWidth), holds: true, comment: "running sum of the current row")
    let res = m.register("res", .sint(config.accumulatorWidth), reset: .none, holds: true, comment: "finished row sum")
    let psumExt = m.wire("psum_ext", psum.state.extended(to: config.accumulatorWidth))
    let total = m.wire("total", acc.state + psumExt)

    m.comb {
      If(load) { Assign(psum.next, beatSum) }
      If(accumulate) {
        If(last) {
          Assign(res.next, total)
          Assign(acc.next, .zeros(acc.state.type))
        }.Else {
          Assign(acc.next, total)
        }
      }
    }
    m.assign(result, res.state)
    return try m.finish()
  }

  /// sum_j nz_j * (neg_j ? -a_j : a_j) = sum_j nz_j * x_j + popcount(nz & neg),
  /// with x_j = a_j ^ {8{neg_j}} (one's complement; the popcount adds the +1).
  /// The first sum splits over the bit planes of x: plane b weighs 2^b, plane
  /// 7 weighs -2^7. Everything is computed modulo 2^psumWidth and read as
  /// signed: the true value always fits.
  static func popcountReduction(_ m: ModuleBuilder, _ config: TernaryCoreConfig, nonZero: Expr, negative: Expr, acts: Expr) -> Expr {
    let w = config.laneWidth
    let width = config.partialSumWidth
    var positive: Expr? = nil
    var weighted: [Expr] = []
    for b in 0..<ActivationFormat.bits {
      let plane = acts[w * (b + 1) - 1, w * b]
      let count = m.wire("count_\(b)", (nonZero & (plane ^ negative)).countOnes(), comment: b == 7 ? "sign plane, weighs -128" : nil)
      let scaled = m.wire("weighted_\(b)", count.extended(to: width).shiftLeft(b))
      if b < ActivationFormat.bits - 1 { weighted.append(scaled) } else { positive = scaled }
    }
    let ones = m.wire("negated_ones", (nonZero & negative).countOnes(), comment: "the +1 of each two's complement negation")
    var sum = m.wire("low_planes", weighted.dropFirst().reduce(weighted[0]) { $0 + $1 })
    sum = m.wire("beat_sum_bits", sum + ones.extended(to: width) - positive!)
    return m.wire("beat_sum", sum.asSigned)
  }

  /// A 9-bit ternary product per weight (a, -a or 0) and a balanced adder tree,
  /// one bit of growth per level.
  static func adderTreeReduction(_ m: ModuleBuilder, _ config: TernaryCoreConfig, nonZero: Expr, negative: Expr, acts: Expr) -> Expr {
    let w = config.laneWidth
    let termType = HWType.sint(ActivationFormat.bits + 1)
    var level: [Expr] = (0..<w).map { j in
      // Activation j gathered from its eight bit planes (wiring only).
      let bits = (0..<ActivationFormat.bits).reversed().map { b in acts[w * b + j] }
      let act = m.wire("act_\(j)", Expr.concat(bits).asSigned)
      let wide = act.extended(to: termType.width)
      return m.wire("term_\(j)", .mux(nonZero[j], .mux(negative[j], -wide, wide), .zeros(termType)))
    }
    var depth = 0
    while level.count > 1 {
      depth += 1
      let width = level[0].width + 1
      level = stride(from: 0, to: level.count, by: 2).map { pair in
        let name = "sum_l\(depth)_\(pair / 2)"
        if pair + 1 < level.count {
          return m.wire(name, level[pair].extended(to: width) + level[pair + 1].extended(to: width))
        }
        return m.wire(name, level[pair].extended(to: width))
      }
    }
    return level[0]
  }

  /// The core takes its lane count as the parameter `Lanes`; the lane's own
  /// sizes (`LaneWidth`, `AccumulatorWidth`) are localparams, since the lane
  /// module is elaborated at them.
  static func coreModule(_ config: TernaryCoreConfig, lane: Module) throws -> Module {
    let w = config.laneWidth
    let m = ModuleBuilder(
      "ternary_core",
      comment: [
        "Ternary accumulate-only matrix core: Lanes lanes x \(w) weights per cycle,",
        "\(config.accumulatorWidth)-bit accumulators (no overflow up to \(config.maxInputs) inputs).",
        "Weight codes {negative, non-zero}: 00 = 0, 01 = +1, 11 = -1, 10 reserved (reads as 0);",
        "each lane's beat is a non-zero plane then a negative plane. Activations arrive as bit planes.",
        "Streams are valid/ready; a weight beat and an activation beat are consumed together.",
      ])
    let lanes = m.parameter("Lanes", default: config.lanes)
    let laneWidth = m.localparam("LaneWidth", .constant(w))
    let accWidth = m.localparam("AccumulatorWidth", .constant(config.accumulatorWidth))
    let weightBeat = HWType.uint(lanes * TernaryEncoding.bitsPerWeight * laneWidth)
    let activationBeat = HWType.uint(ParamExpr.constant(ActivationFormat.bits) * laneWidth)
    precondition(weightBeat.width == config.weightBeatBits && activationBeat.width == config.activationBeatBits)
    let clk = m.clock()
    let rst = m.reset()
    let wValid = m.input("w_valid", .bit)
    let wReady = m.output("w_ready", .bit)
    let wData = m.input("w_data", weightBeat, comment: "lane r at [\(2 * w)*r +: \(2 * w)]")
    let wLast = m.input("w_last", .bit, comment: "last beat of a row group")
    let aValid = m.input("a_valid", .bit)
    let aReady = m.output("a_ready", .bit)
    let aData = m.input("a_data", activationBeat)
    let resValid = m.output("res_valid", .bit)
    let resReady = m.input("res_ready", .bit)
    let resData = m.output("res_data", .uint(lanes * accWidth), comment: "lane r at [\(config.accumulatorWidth)*r +: \(config.accumulatorWidth)]")

    // Stage 0 registers the joined beat. Beyond timing (the wide streams
    // arrive from off-chip memory), this keeps the adder trees off the
    // input-combinational path, which Verilator re-evaluates on every eval.
    let s0Valid = m.register("s0_valid", .bit, holds: true, comment: "a joined beat is held in the input registers")
    let s0Last = m.register("s0_last", .bit, reset: .none, holds: true, comment: "that beat ends its row group")
    let wBeat = m.register("w_beat", weightBeat, reset: .none, holds: true, comment: "weight beat under reduction")
    let aBeat = m.register("a_beat", activationBeat, reset: .none, holds: true, comment: "activation beat under reduction")
    let s1Valid = m.register("s1_valid", .bit, holds: true, comment: "a partial sum is held in the lanes")
    let s1Last = m.register("s1_last", .bit, reset: .none, holds: true, comment: "that partial sum ends its row group")
    let outValid = m.register("out_valid", .bit, comment: "the lanes hold a finished row group")

    let advance = m.wire("advance", !outValid.state || resReady, comment: "the pipeline moves this cycle")
    let fire = m.wire("fire", wValid && aValid && advance, comment: "a weight/activation pair is consumed")
    let finish = m.wire("finish", advance && s1Valid.state && s1Last.state, comment: "a row group completes")
    m.assign(wReady, aValid && advance)
    m.assign(aReady, wValid && advance)

    m.comb {
      If(advance) {
        Assign(s0Valid.next, fire)
        Assign(s1Valid.next, s0Valid.state)
        Assign(s1Last.next, s0Last.state)
      }
      If(fire) {
        Assign(s0Last.next, wLast)
        Assign(wBeat.next, wData)
        Assign(aBeat.next, aData)
      }
      Assign(outValid.next, outValid.state && !resReady)
      If(finish) { Assign(outValid.next, .high) }
    }
    let load = m.wire("load", advance && s0Valid.state, comment: "the lanes reduce the held beat")
    let accumulate = m.wire("accumulate", advance && s1Valid.state)
    m.generate("gen_lane", count: lanes) { g in
      g.instance(lane, "u_lane", [
        ("clk_i", clk), ("rst_ni", rst),
        ("weights_i", g.slice(wBeat.state)),
        ("acts_i", aBeat.state),
        ("load_i", load),
        ("accumulate_i", accumulate),
        ("last_i", s1Last.state),
        ("result_o", g.slice(resData)),
      ])
    }
    m.assign(resValid, outValid.state)
    return try m.finish()
  }
}
