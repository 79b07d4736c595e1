import HWDSL
import HWSpec

/// The BitLinear rescale: ternary-core accumulators times the vector's output
/// scale, `Scale.apply` bit for bit, `lanes` elements a cycle. One
/// accumulator-width x 32 multiplier per lane.
public enum RescaleUnitGenerator: UnitGenerator {
  public static let unitName = "rescale unit"

  public static func manifestParameters(_ config: NormUnitConfig) -> [(key: String, value: String)] {
    [("lanes", "\(config.lanes)"), ("accumulatorWidth", "\(config.accumulatorWidth)")]
  }

  public static func generate(_ config: NormUnitConfig) throws -> Design {
    try config.validate()
    let lane = try laneModule(config)
    return try Design(top: unitModule(config, lane: lane))
  }

  /// |acc| * mantissa (stage 1, with the beat's shift and saturation), then
  /// the rounding, clamping and sign of `Scale.apply` (stage 2).
  static func laneModule(_ config: NormUnitConfig) throws -> Module {
    let w = config.accumulatorWidth
    let m = ModuleBuilder(
      "rescale_lane",
      comment: [
        "One lane of the rescale unit: round(acc * mantissa / 2^shift) half away from zero,",
        "saturated to Int32 (Scale.apply). One \(w) x 32 multiplier.",
      ])
    _ = m.clock()
    let enable = m.input("enable", .bit, comment: "advance both stages")
    let acc = m.input("acc", .sint(w))
    let mantissa = m.input("mantissa", .uint(32))
    let shift = m.input("shift", .uint(7), comment: "-exponent - 1, at most 64")
    let saturate = m.input("saturate", .bit)
    let resultOut = m.output("result", .sint(32))

    let magnitude = FixedPointRTL.magnitude(m, "acc_magnitude", acc)
    let productNext = m.wire("product_next", magnitude.times(mantissa))
    let product = m.register("product", .uint(w + 32), reset: .none, holds: true, comment: "|acc| * mantissa")
    let negative = m.register("negative", .bit, reset: .none, holds: true)
    let nonzero = m.register("nonzero", .bit, reset: .none, holds: true)
    let shiftHeld = m.register("shift", .uint(7), reset: .none, holds: true)
    let saturateHeld = m.register("saturate", .bit, reset: .none, holds: true)
    let result = m.register("result", .sint(32), reset: .none, holds: true)
    let scaled = ScaleRTL.applyResult(
      m, "apply", product: product.state, shift: shiftHeld.state, saturate: saturateHeld.state,
      negative: negative.state, nonzero: nonzero.state)
    m.comb {
      If(enable) {
        Assign(product.next, productNext)
        Assign(negative.next, acc.msb)
        Assign(nonzero.next, acc.ne(0))
        Assign(shiftHeld.next, shift)
        Assign(saturateHeld.next, saturate)
        Assign(result.next, scaled)
      }
    }
    m.assign(resultOut, result.state)
    return try m.finish()
  }

  static func unitModule(_ config: NormUnitConfig, lane: Module) throws -> Module {
    let lanes = config.lanes
    let w = config.accumulatorWidth
    let expType = HWType.sint(NormUnitConfig.scaleExponentBits)
    let m = ModuleBuilder(
      "rescale_unit",
      comment: [
        "BitLinear rescale: \(lanes) lanes of \(w)-bit accumulators times a scale -> Q15.16, exactly",
        "Scale.apply (round half away from zero, saturate to Int32). The scale travels with each",
        "beat; the last flag passes through. Valid/ready in and out, one beat a cycle, latency 3.",
        "Multipliers: one \(w) x 32 per lane.",
      ])
    let clk = m.clock()
    _ = m.reset()
    let accValid = m.input("acc_valid", .bit)
    let accReady = m.output("acc_ready", .bit)
    let accData = m.input("acc_data", .uint(config.accumulatorBeatBits), comment: "accumulator i at [\(w)*i +: \(w)]")
    let accLast = m.input("acc_last", .bit)
    let scaleMantissa = m.input("scale_mantissa", .uint(32), comment: "Scale of this beat: mantissa in [2^31, 2^32) or 0")
    let scaleExponent = m.input("scale_exponent", expType)
    let yValid = m.output("y_valid", .bit)
    let yReady = m.input("y_ready", .bit)
    let yData = m.output("y_data", .uint(config.beatBits), comment: "Q15.16 element i at [32*i +: 32]")
    let yLast = m.output("y_last", .bit)

    let s0Valid = m.register("s0_valid", .bit, holds: true, comment: "a beat is held in the input registers")
    let s0Last = m.register("s0_last", .bit, reset: .none, holds: true)
    let accBeat = m.register("acc_beat", .uint(config.accumulatorBeatBits), reset: .none, holds: true)
    let mantissa = m.register("mantissa", .uint(32), reset: .none, holds: true)
    let exponent = m.register("exponent", expType, reset: .none, holds: true)
    let s1Valid = m.register("s1_valid", .bit, holds: true, comment: "the lanes hold a product")
    let s1Last = m.register("s1_last", .bit, reset: .none, holds: true)
    let outValid = m.register("out_valid", .bit, holds: true, comment: "the lanes hold a result")
    let outLast = m.register("out_last", .bit, reset: .none, holds: true)

    let advance = m.wire("advance", !outValid.state || yReady, comment: "the pipeline moves this cycle")
    let fire = m.wire("fire", accValid && advance)
    m.assign(accReady, advance)
    let controls = ScaleRTL.applyControls(m, "beat", mantissa: mantissa.state, exponent: exponent.state)

    m.comb {
      If(advance) {
        Assign(s0Valid.next, fire)
        Assign(s1Valid.next, s0Valid.state)
        Assign(s1Last.next, s0Last.state)
        Assign(outValid.next, s1Valid.state)
        Assign(outLast.next, s1Last.state)
      }
      If(fire) {
        Assign(s0Last.next, accLast)
        Assign(accBeat.next, accData)
        Assign(mantissa.next, scaleMantissa)
        Assign(exponent.next, scaleExponent)
      }
    }
    m.generate("gen_lane", count: lanes) { g in
      // Signed lane values go through wires: Yosys 0.23 asserts on `$signed(x)` of a whole signal in a port connection.
      let acc = g.wire("acc", g.slice(accBeat.state).asSigned)
      g.instance(lane, "u_lane", [
        ("clk_i", clk),
        ("enable_i", advance),
        ("acc_i", acc),
        ("mantissa_i", mantissa.state),
        ("shift_i", controls.shift),
        ("saturate_i", controls.saturate),
        ("result_o", g.slice(yData)),
      ])
    }
    m.assign(yValid, outValid.state)
    m.assign(yLast, outLast.state)
    return try m.finish()
  }
}
