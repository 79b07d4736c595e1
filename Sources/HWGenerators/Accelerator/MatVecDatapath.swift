import HWDSL
import HWSpec

/// The accelerator's BitLinear back end in one module: the ternary core's
/// result stream wired straight into the rescale unit, so each row group's
/// accumulators become Q15.16 outputs in the cycles after the core finishes
/// it, overlapped with the next group's weights (no pass over the
/// accumulators afterwards). A core wider than the element lanes (lanes a
/// multiple of 64) hands each group's accumulators to the rescale unit in
/// lanes / 64 beats; a group takes at least two weight beats whenever the
/// input has more than 64 columns, so the core rarely waits for it.
///
/// Streams (valid/ready): weights (`w_*`, the core's beats, `w_last_i` ending
/// a row group) and activations (`a_*`, the core's bit-plane beats) in;
/// Q15.16 results (`y_*`, lane r at [32*r +: 32]) out, `y_last_o` on the
/// vector's final group. `scale_*_i` (the vector's output scale, from the
/// quantizer) and `groups_i` (row groups of the vector) are held by the
/// sequencer for the whole vector.
///
/// With several streams (`AcceleratorConfig.streams`) there is one core per
/// stream, all on the same weight beat with their stream's activation beat
/// (`a_data_i` and the scales hold one per stream); the result stream carries
/// each row group's slices with the streams in turn within a slice.
public enum MatVecDatapathGenerator: UnitGenerator {
  public static let unitName = "mat-vec datapath"

  public static func generate(_ config: AcceleratorConfig) throws -> Design {
    try config.validate()
    precondition(
      config.lanes == config.elementLanes || config.lanes % config.elementLanes == 0,
      "the core's lanes must equal the element lanes or be a multiple of them")
    let core = try TernaryCoreGenerator.generate(config.core).top
    let rescale = try RescaleUnitGenerator.generate(config.norm).top
    return try Design(top: topModule(config, core: core, rescale: rescale))
  }

  public static func manifestParameters(_ config: AcceleratorConfig) -> [(key: String, value: String)] {
    [("lanes", "\(config.lanes)"), ("elementLanes", "\(config.elementLanes)")]
      + (config.streams == 1 ? [] : [("streams", "\(config.streams)")])
  }

  public static let groupWidth = 16

  static func topModule(_ config: AcceleratorConfig, core: Module, rescale: Module) throws -> Module {
    let c = config.core
    let m = ModuleBuilder(
      "matvec_datapath",
      comment: [
        "BitLinear back end: ternary_core (\(c.lanes) lanes x \(c.laneWidth)) -> rescale_unit, result stream",
        "wired through. scale_*_i and groups_i are held for the whole vector.",
      ] + (config.streams == 1
        ? []
        : ["\(config.streams) streams: a core each on the shared weight beat; results a slice at a time, streams in turn."]))
    let io = m.ports(MatVecDatapathBundle.self, config)
    let (clk, rst, wValid, wReady, wData, wLast) = (io.clk, io.rst, io.wValid, io.wReady, io.wData, io.wLast)
    let (aValid, aReady, aData, groups) = (io.aValid, io.aReady, io.aData, io.groups)

    let resValid = m.wire("res_valid", .bit)
    let resReady = m.wire("res_ready", .bit)
    let streams = config.streams
    let resData = m.wire("res_data", .uint(streams * c.resultBeatBits))
    if streams == 1 {
      m.instance(core, "u_core", [
        ("clk_i", clk), ("rst_ni", rst),
        ("w_valid_i", wValid), ("w_ready_o", wReady), ("w_data_i", wData), ("w_last_i", wLast),
        ("a_valid_i", aValid), ("a_ready_o", aReady), ("a_data_i", aData),
        ("res_valid_o", resValid), ("res_ready_i", resReady), ("res_data_o", resData),
      ])
    } else {
      // One core per stream, all taking the same weight beat with their stream's
      // activation beat. Equal inputs keep them in lockstep, so core 0's
      // handshakes speak for all of them.
      let wReadyAll = m.wire("w_ready_all", .uint(streams))
      let aReadyAll = m.wire("a_ready_all", .uint(streams))
      let resValidAll = m.wire("res_valid_all", .uint(streams))
      m.generate("gen_stream", count: streams) { g in
        g.instance(core, "u_core", [
          ("clk_i", clk), ("rst_ni", rst),
          ("w_valid_i", wValid), ("w_ready_o", g.slice(wReadyAll)), ("w_data_i", wData), ("w_last_i", wLast),
          ("a_valid_i", aValid), ("a_ready_o", g.slice(aReadyAll)), ("a_data_i", g.slice(aData)),
          ("res_valid_o", g.slice(resValidAll)), ("res_ready_i", resReady), ("res_data_o", g.slice(resData)),
        ])
      }
      m.assign(wReady, wReadyAll[0])
      m.assign(aReady, aReadyAll[0])
      m.assign(resValid, resValidAll[0])
      let together = { (v: Expr) in v.eq(.zeros(v.type)) || v.eq(.ones(v.type)) }
      m.assertAlways(
        "CoresLockstep", together(wReadyAll) && together(aReadyAll) && together(resValidAll),
        "the stream cores' handshakes differ")
    }
    let count = m.register("group_count", .uint(groupWidth), holds: true, comment: "result beats of this vector passed on")
    let lastGroup = m.wire("last_group", count.state.eq(groups - .literal(1, .uint(groupWidth))))
    let take = m.wire("take", resValid && resReady)
    m.comb {
      If(take) {
        Assign(count.next, .mux(lastGroup, .zeros(count.state.type), count.state + .literal(1, .uint(groupWidth))))
      }
    }
    // The rescale unit's input: the core's result beat, or one slice of it at a
    // time; with several streams every stream's beat of a row group, slice by
    // slice, the streams in turn within a slice (part p: slice p / streams of
    // stream p % streams), so the top writes them in that order.
    let slices = config.lanes / config.elementLanes, parts = slices * streams
    let accValid: Expr, accReady: Expr, accData: Expr, accLast: Expr
    var accScale = (mantissa: io.scaleMantissa, exponent: io.scaleExponent)
    if parts == 1 {
      (accValid, accData, accLast) = (resValid, resData, lastGroup)
      accReady = resReady
    } else {
      let sliceBits = config.elementLanes * c.accumulatorWidth
      let partType = HWType.uint(bitsToRepresent(parts - 1))
      let held = m.register(
        "held", .uint(resData.width), reset: .none,
        comment: streams == 1 ? "a result beat being handed on in slices" : "each stream's result beat, handed on in parts")
      let heldValid = m.register("held_valid", .bit)
      let heldLast = m.register("held_last", .bit, reset: .none)
      let slice = m.register("slice", partType, comment: streams == 1 ? "the slice on acc_data" : "the part on acc_data")
      let ready = m.wire("acc_ready", .bit)
      let lastSlice = m.wire("last_slice", slice.state.eq(parts - 1))
      let handOn = m.wire("hand_on", heldValid.state && ready)
      m.assign(resReady, !heldValid.state || (handOn && lastSlice))
      m.comb {
        Assign(held.next, .mux(take, resData, held.state))
        Assign(heldLast.next, .mux(take, lastGroup, heldLast.state))
        Assign(heldValid.next, take || (heldValid.state && !(handOn && lastSlice)))
        Assign(slice.next, .mux(handOn, .mux(lastSlice, .zeros(partType), slice.state + .literal(1, partType)), slice.state))
      }
      /// Where part k lies in `held`.
      func offset(_ k: Int) -> Int { k % streams * c.resultBeatBits + k / streams * sliceBits }
      let data = m.wire("acc_data", .uint(sliceBits))
      // With several streams, part k's stream (k % streams) picks its scale in the same case.
      let e = NormUnitConfig.scaleExponentBits
      let scale = streams == 1
        ? nil : (mantissa: m.wire("acc_scale_mantissa", .uint(32)), exponent: m.wire("acc_scale_exponent", .sint(e)))
      func scaleOf(_ k: Int) -> [Statement] {
        guard let scale else { return [] }
        let s = k % streams
        return [
          Assign(scale.mantissa, io.scaleMantissa[32 * s + 31, 32 * s]),
          Assign(scale.exponent, io.scaleExponent[e * s + e - 1, e * s].asSigned),
        ]
      }
      m.comb {
        Assign(data, held.state[sliceBits - 1, 0])
        scaleOf(0)
        Switch(slice.state, cases: (1..<parts).map { k in
          (values: [k], body: [Assign(data, held.state[offset(k) + sliceBits - 1, offset(k)])] + scaleOf(k))
        }, default: [])
      }
      if let scale { accScale = (scale.mantissa, scale.exponent) }
      accValid = heldValid.state
      accReady = ready
      accData = data
      accLast = m.wire("acc_last", heldLast.state && lastSlice)
    }
    let beats = m.register("perf_beats", .uint(32), holds: true)
    let stalls = m.register("perf_stalls", .uint(32), holds: true)
    let one = Expr.literal(1, .uint(32))
    m.comb {
      If(wValid && wReady) { Assign(beats.next, beats.state + one) }
      If(aValid && !wValid) { Assign(stalls.next, stalls.state + one) }
    }
    m.assign(io.perfBeats, beats.state)
    m.assign(io.perfStalls, stalls.state)
    m.instance(rescale, "u_rescale", [
      ("clk_i", clk), ("rst_ni", rst),
      ("acc_valid_i", accValid), ("acc_ready_o", accReady), ("acc_data_i", accData), ("acc_last_i", accLast),
      ("scale_mantissa_i", accScale.mantissa), ("scale_exponent_i", accScale.exponent),
      ("y_valid_o", io.yValid), ("y_ready_i", io.yReady), ("y_data_o", io.yData), ("y_last_o", io.yLast),
    ])
    return try m.finish()
  }
}
