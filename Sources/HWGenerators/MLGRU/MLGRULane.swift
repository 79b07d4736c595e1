import HWDSL
import HWSpec

/// The element datapath of the MLGRU unit: one lane computes one element per
/// cycle of either operation, with every register loaded when `en_i` is high
/// (the unit's pipeline advances) and held otherwise. Stage numbers match the
/// unit's control pipeline: the lane's inputs are stage 1 (the unit's input
/// registers), its result register is stage 9.
///
///   1 -> 2  sigmoid table lookups of x and y (two `mlgru_sigmoid`, 3 stages each)
///   3 -> 4  1 - lb
///   4 -> 5  x * sigmoid(x), (1 - lb) * sigmoid(y)                 [2 multipliers]
///   5 -> 6  SiLU(x) = round; f = lb + round((1 - lb) * sigmoid(y)); h_prev read
///   6 -> 7  SiLU(x) * (1 - f) or SiLU(x) * y;  f * h_prev          [2 multipliers]
///   7 -> 8  round both
///   8 -> 9  h = f * h_prev + c, written back to the lane's h bank; result register
///
/// Multipliers per lane: 6 — one 11 x 12 in each sigmoid's interpolation, two
/// 32 x 18 (SiLU and the lower bound) and two 32 x 32 (c or SiLU(a) * b, and
/// f * h_prev). The silu-mul operation reuses the recurrence's multipliers.
enum MLGRULaneGenerator {
  /// Registers from the lane's inputs to its result.
  static let stages = 8

  /// One sigmoid, `Fixed.sigmoid` exactly: |x| clamped to 16 - 2^-16, the
  /// table entry of its 1/16 segment, linear interpolation rounded half away
  /// from zero, and 1 - value for negative x. Three register stages.
  static func sigmoidModule() throws -> Module {
    let table = Fixed.sigmoidTable
    let slopes = (0..<256).map { Int(table[$0 + 1] - table[$0]) }
    let lowBits = 17  // table values lie in [2^15, 2^16]
    let slopeBits = max(1, bitsToRepresent(slopes.max()!))
    let fractionBits = 12
    let m = ModuleBuilder(
      "mlgru_sigmoid",
      comment: [
        "sigmoid(x) for Q15.16 x, bit-exact to Fixed.sigmoid: the segment k = |x| >> 12 of",
        "|x| (clamped to 16 - 2^-16) selects table[k] and slope table[k+1] - table[k] from a",
        "256-entry ROM; value = table[k] + round(slope * (|x| & 0xFFF) / 2^12), half away from",
        "zero; sigmoid(-x) = 1 - sigmoid(x). Output in [0, 1] (Q15.16, 18-bit signed).",
        "Three register stages (ROM, interpolation product, value), all enabled by en_i.",
      ])
    _ = m.clock()
    let en = m.input("en", .bit, comment: "load every register")
    let x = m.input("x", .sint(32))
    let sig = m.output("sig", .sint(18), comment: "sigmoid(x) in Q15.16, three cycles after x")

    // |x| as an unsigned value; -Int32.min wraps to 2^31, which the clamp catches like any large value.
    let negative = m.wire("negative", x.msb)
    let magnitude = FixedPointRTL.magnitude(m, "magnitude", x)
    let beyond = m.wire("beyond", magnitude[31, 20].reduceOr(), comment: "|x| >= 16: the last table point")
    let clamped = m.wire("clamped", .mux(beyond, .literal((1 << 20) - 1, .uint(20)), magnitude[19, 0]))
    let index = m.wire("index", clamped[19, fractionBits], comment: "segment of width 1/16")
    let fraction = m.wire("fraction", clamped[fractionBits - 1, 0], comment: "position inside it, 12 bits")

    let entryType = HWType.uint(slopeBits + lowBits)
    let rom = m.rom(
      "SigmoidTable", entryType, entries: (0..<256).map { k in slopes[k] << lowBits | Int(table[k]) },
      comment: "Entry k: {slope table[k+1] - table[k] (\(slopeBits) bits), table[k] (\(lowBits) bits)}, Q15.16.")
    let entry = m.wire("rom_entry", reading: rom, at: index, comment: "{slope[\(slopeBits - 1):0], table value[\(lowBits - 1):0]}")

    let low2 = FixedPointRTL.stage(m, "low_s2", entry[lowBits - 1, 0], enable: en, comment: "table[k]")
    let slope2 = FixedPointRTL.stage(m, "slope_s2", entry[entryType.width - 1, lowBits], enable: en, comment: "table[k+1] - table[k]")
    let fraction2 = FixedPointRTL.stage(m, "fraction_s2", fraction, enable: en)
    let negative2 = FixedPointRTL.stage(m, "negative_s2", negative, enable: en)

    let product = m.wire("product", slope2.times(fraction2), comment: "interpolation multiplier")
    let product3 = FixedPointRTL.stage(m, "product_s3", product, enable: en)
    let low3 = FixedPointRTL.stage(m, "low_s3", low2, enable: en)
    let negative3 = FixedPointRTL.stage(m, "negative_s3", negative2, enable: en)

    // The product is non-negative; as a signed value it goes through the shared rounder.
    let productSigned = m.wire("product_signed", Expr.concat([.low, product3]).asSigned)
    let step = FixedPointRTL.roundShift(m, "step", productSigned, shift: fractionBits)
    let lowSigned = m.wire("low_signed", Expr.concat([.low, low3]).asSigned)
    let stepWide = m.wire("step_wide", step.extended(to: 18))
    let value = m.wire("value", lowSigned + stepWide, comment: "sigmoid(|x|)")
    let result = m.wire("result", .mux(negative3, .literal(Int(Fixed.one), .sint(18)) - value, value))
    let sig4 = FixedPointRTL.stage(m, "sig_s4", result, enable: en)
    m.assign(sig, sig4)
    return try m.finish()
  }

  static func laneModule(_ config: MLGRUUnitConfig, sigmoid: Module) throws -> Module {
    let word = FixedPointRTL.word
    let m = ModuleBuilder(
      "mlgru_lane",
      comment: [
        "One element per cycle of the MLGRU unit, bit-exact to MLGRUGolden:",
        "  recur:    f = lb + (1 - lb) * sigmoid(y); c = SiLU(x) * (1 - f); h = f * h_prev + c",
        "  silu-mul: SiLU(x) * y",
        "with x = yi or a, y = yf or b. The lane's bank of h (\(config.memoryDepth) words) holds its",
        "element of every layer's h. Eight register stages from x_i to res_o, enabled by en_i.",
        "Multipliers: 6 (two 11x12 interpolations, two 32x18, two 32x32).",
      ])
    let clk = m.clock()
    let en = m.input("en", .bit, comment: "the pipeline advances")
    let x = m.input("x", word, comment: "stage 1: SiLU operand (yi or a)")
    let y = m.input("y", word, comment: "stage 1: yf or b")
    let lb = m.input("lb", word, comment: "stage 1: lower bound")
    let raddr = m.input("raddr", .uint(config.addressWidth), comment: "stage 5: h address to read")
    let usePrev = m.input("use_prev", .bit, comment: "stage 6: h_prev from the bank (else 0)")
    let selectB = m.input("sel_b", .bit, comment: "stage 6: multiply SiLU(x) by y (silu-mul) instead of 1 - f")
    let passC = m.input("pass_c", .bit, comment: "stage 8: the result is the product (silu-mul), not h")
    let zero = m.input("zero", .bit, comment: "stage 8: the result is 0 (clear)")
    let keep = m.input("keep", .bit, comment: "stage 8: the element exists (else the output is 0)")
    let we = m.input("we", .bit, comment: "stage 8: write the result to h")
    let waddr = m.input("waddr", .uint(config.addressWidth), comment: "stage 8: h address to write")
    let res = m.output("res", word, comment: "stage 9: h (recur), SiLU(x) * y (silu-mul) or 0")

    let gate = forgetGateStages(m, config, sigmoid: sigmoid, clk: clk, en: en, x: x, y: y, lb: lb, raddr: raddr)
    let res9 = recurrenceStages(
      m, gate, en: en, selectB: selectB, usePrev: usePrev, passC: passC, zero: zero, keep: keep, we: we, waddr: waddr)
    m.assign(res, res9)
    return try m.finish()
  }

  /// Stages 1 -> 6 of a lane: the sigmoids, SiLU(x) and the forget gate
  /// f = lb + (1 - lb) * sigmoid(y), and the h bank's read register.
  static func forgetGateStages(
    _ m: ModuleBuilder, _ config: MLGRUUnitConfig, sigmoid: Module, clk: Expr, en: Expr, x: Expr, y: Expr, lb: Expr,
    raddr: Expr
  ) -> MLGRULaneGate {
    typealias R = FixedPointRTL
    let word = R.word
    // Stages 2-4: the two sigmoids; the operands travel alongside.
    let sigX = m.wire("sig_x", .sint(18))
    let sigY = m.wire("sig_y", .sint(18))
    m.instance(sigmoid, "u_sigmoid_x", [("clk_i", clk), ("en_i", en), ("x_i", x), ("sig_o", sigX)])
    m.instance(sigmoid, "u_sigmoid_y", [("clk_i", clk), ("en_i", en), ("x_i", y), ("sig_o", sigY)])
    let x4 = R.delay(m, "x", x, from: 1, to: 4, enable: en)
    let y4 = R.delay(m, "y", y, from: 1, to: 4, enable: en)
    let lb3 = R.delay(m, "lb", lb, from: 1, to: 3, enable: en)
    let lb4 = R.stage(m, "lb_s4", lb3, enable: en)
    // 1 - lb is computed a stage early, so the multiplier sees a register.
    let oneMinusLb4 = R.stage(m, "one_minus_lb_s4", R.oneMinus(m, "one_minus_lb", lb3), enable: en)

    // 4 -> 5: SiLU's product and the lower bound's product. Every product gets a wire of its
    // full width: SystemVerilog sizes `a * b` by its context (a concatenation would truncate it).
    let siluProduct = m.wire("silu_product", x4.times(sigX), comment: "x * sigmoid(x), multiplier")
    let gateProduct = m.wire("gate_product", oneMinusLb4.times(sigY), comment: "(1 - lb) * sigmoid(y), multiplier")
    let siluProduct5 = R.stage(m, "silu_product_s5", siluProduct, enable: en)
    let gateProduct5 = R.stage(m, "gate_product_s5", gateProduct, enable: en)
    let lb5 = R.stage(m, "lb_s5", lb4, enable: en)
    let y5 = R.stage(m, "y_s5", y4, enable: en)

    // 5 -> 6: round; f = lb + (1 - lb) * sigmoid(y). The h bank is read here.
    let silu = R.productToFixed(m, "silu", siluProduct5)
    let gate = R.productToFixed(m, "gate", gateProduct5)
    let forget = R.add(m, "forget", lb5, gate)
    let silu6 = R.stage(m, "silu_s6", silu, enable: en)
    let forget6 = R.stage(m, "forget_s6", forget, enable: en, comment: "f with its lower bound")
    let y6 = R.stage(m, "y_s6", y5, enable: en)
    let bank = m.memory("h_mem", depth: config.memoryDepth, word)
    let hPrev6 = R.stage(m, "h_prev_s6", bank.read(raddr), enable: en, comment: "read register of the h bank")
    return MLGRULaneGate(silu: silu6, forget: forget6, y: y6, hPrev: hPrev6, bank: bank)
  }

  /// Stages 6 -> 9 of a lane: c = SiLU(x) * (1 - f) (or SiLU(a) * b),
  /// h = f * h_prev + c written back to the bank, and the result register.
  static func recurrenceStages(
    _ m: ModuleBuilder, _ g: MLGRULaneGate, en: Expr, selectB: Expr, usePrev: Expr, passC: Expr, zero: Expr,
    keep: Expr, we: Expr, waddr: Expr
  ) -> Expr {
    typealias R = FixedPointRTL
    let word = R.word
    let (silu6, forget6, y6, hPrev6, bank) = (g.silu, g.forget, g.y, g.hPrev, g.bank)
    // 6 -> 7: the two products of the recurrence (or SiLU(a) * b).
    let oneMinusForget = R.oneMinus(m, "one_minus_forget", forget6)
    let factor = m.wire("factor", .mux(selectB, y6, oneMinusForget), comment: "1 - f (recur) or b (silu-mul)")
    let prev = m.wire("prev", .mux(usePrev, hPrev6, .zeros(word)))
    let candidateProduct = m.wire("candidate_product", silu6.times(factor), comment: "SiLU(x) * factor, multiplier")
    let carryProduct = m.wire("carry_product", forget6.times(prev), comment: "f * h_prev, multiplier")
    let candidateProduct7 = R.stage(m, "candidate_product_s7", candidateProduct, enable: en)
    let carryProduct7 = R.stage(m, "carry_product_s7", carryProduct, enable: en)

    // 7 -> 8: round both.
    let candidate = R.productToFixed(m, "candidate", candidateProduct7)
    let carry = R.productToFixed(m, "carry", carryProduct7)
    let candidate8 = R.stage(m, "candidate_s8", candidate, enable: en, comment: "c (recur) or SiLU(a) * b")
    let carry8 = R.stage(m, "carry_s8", carry, enable: en, comment: "f * h_prev")

    // 8 -> 9: h = f * h_prev + c; the result is written back and registered.
    let h = R.add(m, "h", carry8, candidate8)
    let value = m.wire("value", .mux(passC, candidate8, .mux(zero, .zeros(word), h)))
    m.write(bank, enable: we, address: waddr, data: value)
    let res9 = R.stage(m, "res_s9", .mux(keep, value, .zeros(word)), enable: en)
    return res9
  }
}

/// What the lane's first stages hand on at stage 6.
struct MLGRULaneGate {
  let silu: Expr
  let forget: Expr
  let y: Expr
  let hPrev: Expr
  let bank: ModuleBuilder.MemoryHandle
}
