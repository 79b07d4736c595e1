import HWDSL
import HWSpec

/// The ternary accumulate-only matrix core.
///
/// `lanes` output rows are computed in parallel. Every cycle a weight beat
/// (`laneWidth` 2-bit ternary codes per lane) is joined with an activation
/// beat (`laneWidth` int8 values, shared by all lanes); each lane adds,
/// subtracts or skips each activation through an adder tree, registers the
/// partial sum, and adds it to its accumulator. The weight beat that ends a
/// row group carries `w_last_i`; its sums leave on the result stream, one
/// accumulator per lane. There is no multiplier anywhere: a ternary product is
/// a 2:1 choice between `a` and `-a`, gated by the non-zero bit.
///
/// Pipeline: join -> adder tree -> partial-sum register -> accumulator ->
/// result register. A full result register that the consumer does not take
/// stalls the whole pipeline (`advance`), so no beat is ever dropped.
public enum TernaryCoreGenerator {
  public static func generate(_ config: TernaryCoreConfig) throws -> Design {
    try config.validate()
    let lane = try laneModule(config)
    return try Design(top: coreModule(config, lane: lane))
  }

  /// One lane: adder tree over `laneWidth` ternary products, partial-sum
  /// register, accumulator and result register.
  static func laneModule(_ config: TernaryCoreConfig) throws -> Module {
    let w = config.laneWidth
    let m = ModuleBuilder(
      "ternary_lane",
      comment: [
        "One output row of the ternary core: a \(w)-input adder tree of ternary products,",
        "a partial-sum register and a \(config.accumulatorWidth)-bit accumulator. No multipliers.",
      ])
    _ = m.clock()
    _ = m.reset()
    let weights = m.input("weights", .uint(2 * w), comment: "\(w) ternary codes, weight j at [2j+1:2j]")
    let acts = m.input("acts", .uint(8 * w), comment: "\(w) int8 activations, element j at [8j+7:8j]")
    let load = m.input("load", .bit, comment: "capture this beat's partial sum")
    let accumulate = m.input("accumulate", .bit, comment: "add the held partial sum")
    let last = m.input("last", .bit, comment: "the held partial sum ends the row")
    let result = m.output("result", .sint(config.accumulatorWidth))

    // Ternary products, 9 bits so that -(-128) fits.
    let termType = HWType.sint(ActivationFormat.bits + 1)
    var level: [Expr] = (0..<w).map { j in
      let code = weights[2 * j + 1, 2 * j]
      let act = m.wire("act_\(j)", acts[8 * j + 7, 8 * j].asSigned)
      let wide = act.extended(to: termType.width)
      // code[0]: non-zero, code[1]: negative (see TernaryEncoding).
      return m.wire(
        "term_\(j)",
        .mux(code[0], .mux(code[1], -wide, wide), .zeros(termType)))
    }
    // Balanced adder tree, one bit of growth per level.
    var depth = 0
    while level.count > 1 {
      depth += 1
      var next: [Expr] = []
      let width = level[0].width + 1
      for pair in stride(from: 0, to: level.count, by: 2) {
        let index = pair / 2
        if pair + 1 < level.count {
          next.append(m.wire("sum_l\(depth)_\(index)", level[pair].extended(to: width) + level[pair + 1].extended(to: width)))
        } else {
          next.append(m.wire("sum_l\(depth)_\(index)", level[pair].extended(to: width)))
        }
      }
      level = next
    }
    let tree = level[0]
    let psumType = HWType.sint(config.partialSumWidth)
    precondition(tree.type == psumType, "adder tree width disagrees with TernaryCoreConfig.partialSumWidth")

    let psum = m.register("psum", psumType, reset: .none, comment: "partial sum of the beat in flight")
    let acc = m.register("acc", .sint(config.accumulatorWidth), comment: "running sum of the current row")
    let res = m.register("res", .sint(config.accumulatorWidth), reset: .none, comment: "finished row sum")
    let treeSum = tree
    let psumExt = m.wire("psum_ext", psum.state.extended(to: config.accumulatorWidth))
    let total = m.wire("total", acc.state + psumExt)

    m.comb {
      Assign(psum.next, psum.state)
      Assign(acc.next, acc.state)
      Assign(res.next, res.state)
      If(load) { Assign(psum.next, treeSum) }
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

  static func coreModule(_ config: TernaryCoreConfig, lane: Module) throws -> Module {
    let w = config.laneWidth
    let m = ModuleBuilder(
      "ternary_core",
      comment: [
        "Ternary accumulate-only matrix core: \(config.lanes) lanes x \(w) weights per cycle,",
        "\(config.accumulatorWidth)-bit accumulators (no overflow up to \(config.maxInputs) inputs).",
        "Weight codes: 2'b00 = 0, 2'b01 = +1, 2'b11 = -1, 2'b10 reserved (reads as 0).",
        "Streams are valid/ready; a weight beat and an activation beat are consumed together.",
      ])
    let clk = m.clock()
    let rst = m.reset()
    let wValid = m.input("w_valid", .bit)
    let wReady = m.output("w_ready", .bit)
    let wData = m.input("w_data", .uint(config.weightBeatBits), comment: "lane r at [\(2 * w)*r +: \(2 * w)]")
    let wLast = m.input("w_last", .bit, comment: "last beat of a row group")
    let aValid = m.input("a_valid", .bit)
    let aReady = m.output("a_ready", .bit)
    let aData = m.input("a_data", .uint(config.activationBeatBits))
    let resValid = m.output("res_valid", .bit)
    let resReady = m.input("res_ready", .bit)
    let resData = m.output("res_data", .uint(config.resultBeatBits), comment: "lane r at [\(config.accumulatorWidth)*r +: \(config.accumulatorWidth)]")

    let s1Valid = m.register("s1_valid", .bit, comment: "a partial sum is held in the lanes")
    let s1Last = m.register("s1_last", .bit, reset: .none, comment: "that partial sum ends its row group")
    let outValid = m.register("out_valid", .bit, comment: "the lanes hold a finished row group")

    let advance = m.wire("advance", !outValid.state || resReady, comment: "the pipeline moves this cycle")
    let fire = m.wire("fire", wValid && aValid && advance, comment: "a weight/activation pair is consumed")
    let finish = m.wire("finish", advance && s1Valid.state && s1Last.state, comment: "a row group completes")
    m.assign(wReady, aValid && advance)
    m.assign(aReady, wValid && advance)

    m.comb {
      Assign(s1Valid.next, s1Valid.state)
      Assign(s1Last.next, s1Last.state)
      If(advance) {
        Assign(s1Valid.next, fire)
        Assign(s1Last.next, wLast)
      }
      Assign(outValid.next, outValid.state && !resReady)
      If(finish) { Assign(outValid.next, .high) }
    }
    let accumulate = m.wire("accumulate", advance && s1Valid.state)
    var results: [Expr] = []
    for r in 0..<config.lanes {
      let result = m.wire("lane_result_\(r)", .sint(config.accumulatorWidth))
      m.instance(lane, "u_lane_\(r)", [
        ("clk_i", clk), ("rst_ni", rst),
        ("weights_i", wData[2 * w * (r + 1) - 1, 2 * w * r]),
        ("acts_i", aData),
        ("load_i", fire),
        ("accumulate_i", accumulate),
        ("last_i", s1Last.state),
        ("result_o", result),
      ])
      results.append(result)
    }
    m.assign(resData, .concat(results.reversed()))
    m.assign(resValid, outValid.state)
    return try m.finish()
  }
}
