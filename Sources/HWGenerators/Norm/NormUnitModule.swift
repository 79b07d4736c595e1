import HWDSL
import HWSpec

/// `norm_unit`, assembled from the parts below in the order the module
/// declares them: the first pass (join, mask, input registers), the
/// second-pass pipeline, the lanes and their reductions, the scalar datapath
/// and the phase sequencer that drives it, and the outputs.
extension NormUnitGenerator {
  typealias NormPhaseArm = (state: Phase, body: [Statement])

  static func unitModule(_ config: NormUnitConfig, lane: Module) throws -> Module {
    let m = ModuleBuilder("norm_unit", comment: unitComment(config))
    let io = NormUnitPorts(m, config)
    let memory = m.memory("z_mem", depth: config.memoryDepth, .uint(config.beatBits))
    let input = NormFirstPass(m, config, io: io, addressBits: memory.addressWidth)
    let output = NormSecondPass(m, config, io: io, phase: input.phase, addressBits: memory.addressWidth)
    let beat = NormLaneArray(m, config, lane: lane, io: io, input: input, output: output, memory: memory)
    input.accumulate(m, config, io: io, beat: beat)
    let scalars = NormScalarDatapath(m, config, input: input)
    NormSequencer(config: config, io: io, input: input, output: output, scalars: scalars).build(m)
    output.advancePipeline(m, memory: memory, lastAddress: input.lastAddress.state)
    output.drive(m, io: io, lanes: config.lanes, scale: scalars.registers)
    return try m.finish()
  }

  static func unitComment(_ config: NormUnitConfig) -> [String] {
    [
      "RMSNorm unit: \(config.lanes) Q15.16 lanes, vectors of up to \(config.maxLength) elements "
        + "(\(config.memoryDepth) beats on chip).",
      "mode 0 (norm):     y_i = r.apply(Fixed.mul(x_i, gamma_i)), r = sqrtLength * rsqrt(ss + epsTerm).",
      "mode 1 (quantize): q_i = clamp(round(z_i * 127 / M)), z = Fixed.mul(x, gamma), M = max |z_i|;",
      "                   scale = beta * r * M / 127 (zero, and q = 0, for an all-zero z).",
      "x and gamma are valid/ready streams consumed together; x_last_i marks a vector's last beat.",
      "mode, length and the constants are sampled with a vector's first beat. Elements past length",
      "are ignored (read as zero) and come out as zero. Results stream out after the whole vector",
      "is in; scale_*_o hold the vector's output scale while its results stream (quantize mode).",
      "Multipliers: 2 per lane (32 x 32 square, shared 33 x 33) and one 32 x 32 for the scalars.",
    ]
  }
}

/// The first pass: the phase register, the x/gamma join, the length mask,
/// the input registers, the per-vector constants and the running reductions
/// (sum of squares, maximum magnitude).
struct NormFirstPass {
  let phase: StateMachine<NormUnitGenerator.Phase>
  let first: ModuleBuilder.RegisterHandle
  let fire: Expr
  let remaining: ModuleBuilder.RegisterHandle
  let remainingNext: Expr
  let xMasked: Expr
  let s0Valid: ModuleBuilder.RegisterHandle
  let s0Last: ModuleBuilder.RegisterHandle
  let xBeat: ModuleBuilder.RegisterHandle
  let gBeat: ModuleBuilder.RegisterHandle
  let s1Valid: ModuleBuilder.RegisterHandle
  let s1Last: ModuleBuilder.RegisterHandle
  let s2Valid: ModuleBuilder.RegisterHandle
  let mode: ModuleBuilder.RegisterHandle
  let eps: ModuleBuilder.RegisterHandle
  let sqrtMantissa: ModuleBuilder.RegisterHandle
  let sqrtExponent: ModuleBuilder.RegisterHandle
  let betaMantissa: ModuleBuilder.RegisterHandle
  let betaExponent: ModuleBuilder.RegisterHandle
  let writeAddress: ModuleBuilder.RegisterHandle
  let lastAddress: ModuleBuilder.RegisterHandle
  let beatSquares: ModuleBuilder.RegisterHandle
  let beatMax: ModuleBuilder.RegisterHandle
  let sumOfSquares: ModuleBuilder.RegisterHandle
  let maxMagnitude: ModuleBuilder.RegisterHandle

  init(_ m: ModuleBuilder, _ config: NormUnitConfig, io: NormUnitPorts, addressBits: Int) {
    let lanes = config.lanes
    let lengthBits = config.lengthBits
    phase = StateMachine(m, "phase", reset: NormUnitGenerator.Phase.input)
    first = m.register("first", .bit, resetValue: 1, holds: true, comment: "the next beat starts a vector")
    let inInput = m.wire("in_input", phase.inState(.input))
    fire = m.wire("fire", io.xValid && io.gValid && inInput, comment: "an x/gamma pair is consumed")
    m.assign(io.xReady, io.gValid && inInput)
    m.assign(io.gReady, io.xValid && inInput)

    remaining = m.register(
      "remaining", .uint(lengthBits), reset: .none, holds: true, comment: "elements left from this beat on")
    let lengthNow = m.wire("length_now", .mux(first.state, io.lengthIn, remaining.state))
    let lanesLiteral = Expr.literal(lanes, .uint(lengthBits))
    remainingNext = m.wire(
      "remaining_next", .mux(lengthNow.gt(lanesLiteral), lengthNow - lanesLiteral, .zeros(.uint(lengthBits))))
    let maskedLanes: [Expr] = (0..<lanes).map { i in
      let live = lengthNow.gt(.literal(i, .uint(lengthBits)))
      return Expr.mux(live, io.xData[32 * i + 31, 32 * i], .zeros(.uint(32)))
    }
    xMasked = m.wire("x_masked", .concat(maskedLanes.reversed()), comment: "elements past the length read as zero")

    s0Valid = m.register("s0_valid", .bit, comment: "a beat is held in the input registers")
    s0Last = m.register("s0_last", .bit, reset: .none, holds: true)
    xBeat = m.register("x_beat", .uint(config.beatBits), reset: .none, holds: true)
    gBeat = m.register("g_beat", .uint(config.beatBits), reset: .none, holds: true)
    s1Valid = m.register("s1_valid", .bit, comment: "the lanes hold a beat's z and squares")
    s1Last = m.register("s1_last", .bit, reset: .none)
    s2Valid = m.register("s2_valid", .bit, comment: "a beat's square sum and maximum are held")
    mode = m.register("mode", .bit, reset: .none, holds: true, comment: "1: quantize")
    eps = m.register("eps_term", .uint(64), reset: .none, holds: true)
    sqrtMantissa = m.register("sqrt_len_mantissa", .uint(32), reset: .none, holds: true)
    sqrtExponent = m.register(
      "sqrt_len_exponent", .sint(NormUnitConfig.sqrtLengthExponentBits), reset: .none, holds: true)
    betaMantissa = m.register("beta_mantissa", .uint(32), reset: .none, holds: true)
    betaExponent = m.register("beta_exponent", .sint(NormUnitConfig.betaExponentBits), reset: .none, holds: true)
    writeAddress = m.register("write_address", .uint(addressBits), reset: .none, holds: true)
    lastAddress = m.register(
      "last_address", .uint(addressBits), reset: .none, holds: true, comment: "the vector's last beat in z_mem")
    beatSquares = m.register("beat_squares", .uint(NormLaneArray.beatSumBits(config)), reset: .none)
    beatMax = m.register("beat_max", .uint(32), reset: .none)
    sumOfSquares = m.register(
      "sum_of_squares", .uint(config.sumOfSquaresBits), reset: .none, holds: true, comment: "exact: never wraps")
    maxMagnitude = m.register("max_magnitude", .uint(32), reset: .none, holds: true, comment: "M = max |z_i|")
  }

  /// The input pipeline (input registers -> lanes -> beat reductions), the
  /// z_mem write address and the vector's running sum and maximum.
  func accumulate(_ m: ModuleBuilder, _ config: NormUnitConfig, io: NormUnitPorts, beat: NormLaneArray) {
    let addressBits = writeAddress.state.width
    let sumBits = config.sumOfSquaresBits
    m.comb {
      Assign(s0Valid.next, fire)
      Assign(s1Valid.next, s0Valid.state)
      Assign(s1Last.next, s0Last.state)
      Assign(s2Valid.next, s1Valid.state)
      Assign(beatSquares.next, beat.squareSum)
      Assign(beatMax.next, beat.maxMagnitude)
      If(s1Valid.state) {
        Assign(writeAddress.next, writeAddress.state + .literal(1, .uint(addressBits)))
        If(s1Last.state) { Assign(lastAddress.next, writeAddress.state) }
      }
      If(s2Valid.state) {
        Assign(sumOfSquares.next, sumOfSquares.state + beatSquares.state.extended(to: sumBits))
        Assign(maxMagnitude.next, .mux(beatMax.state.gt(maxMagnitude.state), beatMax.state, maxMagnitude.state))
      }
      If(fire) {
        Assign(xBeat.next, xMasked)
        Assign(gBeat.next, io.gData)
        Assign(s0Last.next, io.xLast)
        Assign(remaining.next, remainingNext)
        If(first.state) { sampleConstants(io: io, addressBits: addressBits, sumBits: sumBits) }
      }
    }
  }

  /// With a vector's first beat: its mode and constants, and the reductions restarted.
  private func sampleConstants(io: NormUnitPorts, addressBits: Int, sumBits: Int) -> [Statement] {
    Statements {
      Assign(mode.next, io.modeIn)
      Assign(eps.next, io.epsIn)
      Assign(sqrtMantissa.next, io.sqrtMantissaIn)
      Assign(sqrtExponent.next, io.sqrtExponentIn)
      Assign(betaMantissa.next, io.betaMantissaIn)
      Assign(betaExponent.next, io.betaExponentIn)
      Assign(writeAddress.next, .zeros(.uint(addressBits)))
      Assign(sumOfSquares.next, .zeros(.uint(sumBits)))
      Assign(maxMagnitude.next, .zeros(.uint(32)))
    }
  }
}

/// The second pass: z_mem read -> lane stage 1 -> lane stage 2 (the output
/// register), stalled by y_ready_i, and the scale the lanes apply.
struct NormSecondPass {
  let issuing: ModuleBuilder.RegisterHandle
  let readAddress: ModuleBuilder.RegisterHandle
  let readData: ModuleBuilder.RegisterHandle
  let rValid: ModuleBuilder.RegisterHandle
  let rLast: ModuleBuilder.RegisterHandle
  let aValid: ModuleBuilder.RegisterHandle
  let aLast: ModuleBuilder.RegisterHandle
  let outValid: ModuleBuilder.RegisterHandle
  let outLast: ModuleBuilder.RegisterHandle
  let advance: Expr
  let inOutput: Expr
  let issue: Expr
  let finish: Expr
  let applyMantissa: ModuleBuilder.RegisterHandle
  let applyExponent: ModuleBuilder.RegisterHandle
  let controls: (shift: Expr, saturate: Expr)

  init(
    _ m: ModuleBuilder, _ config: NormUnitConfig, io: NormUnitPorts, phase: StateMachine<NormUnitGenerator.Phase>,
    addressBits: Int
  ) {
    issuing = m.register("issuing", .bit, holds: true, comment: "addresses of the vector are still to be read")
    readAddress = m.register("read_address", .uint(addressBits), reset: .none, holds: true)
    readData = m.register("read_data", .uint(config.beatBits), reset: .none, holds: true)
    rValid = m.register("r_valid", .bit, holds: true)
    rLast = m.register("r_last", .bit, reset: .none, holds: true)
    aValid = m.register("a_valid", .bit, holds: true)
    aLast = m.register("a_last", .bit, reset: .none, holds: true)
    outValid = m.register("out_valid", .bit, holds: true)
    outLast = m.register("out_last", .bit, reset: .none, holds: true)
    // Outside the second pass out_valid is low, so the lanes advance every cycle.
    advance = m.wire("advance", !outValid.state || io.yReady, comment: "the second-pass pipeline moves")
    inOutput = m.wire("in_output", phase.inState(.output))
    issue = m.wire("issue", inOutput && issuing.state && advance)
    finish = m.wire(
      "finish", outValid.state && io.yReady && outLast.state, comment: "the vector's last result leaves")

    // The apply scale: r in norm mode, 127 / M in quantize mode.
    let expType = HWType.sint(NormUnitConfig.scaleExponentBits)
    applyMantissa = m.register("apply_mantissa", .uint(32), reset: .none, holds: true)
    applyExponent = m.register("apply_exponent", expType, reset: .none, holds: true)
    controls = ScaleRTL.applyControls(m, "apply", mantissa: applyMantissa.state, exponent: applyExponent.state)
  }

  /// The read and valid/last stages; the lanes hold the data of stages a and out.
  func advancePipeline(_ m: ModuleBuilder, memory: ModuleBuilder.MemoryHandle, lastAddress: Expr) {
    m.comb {
      If(advance) {
        Assign(readData.next, memory.read(readAddress.state))
        Assign(rValid.next, issue)
        Assign(rLast.next, readAddress.state.eq(lastAddress))
        Assign(aValid.next, rValid.state)
        Assign(aLast.next, rLast.state)
        Assign(outValid.next, aValid.state)
        Assign(outLast.next, aLast.state)
      }
    }
  }

  /// The output ports: the stream, its int8 view (`Norms.quantize`'s clamp) and the scale.
  func drive(_ m: ModuleBuilder, io: NormUnitPorts, lanes: Int, scale: NormScalarRegisters) {
    let quantized: [Expr] = (0..<lanes).map { i in
      FixedPointRTL.clampToInt8(m, "q_\(i)", io.yData[32 * i + 31, 32 * i])
    }
    m.assign(io.yValid, outValid.state)
    m.assign(io.yLast, outLast.state)
    m.assign(io.qData, .concat(quantized.reversed()))
    m.assign(io.scaleMantissa, scale.outMantissa.state)
    m.assign(io.scaleExponent, scale.outExponent.state)
  }
}

/// The `lanes` norm lanes in one generate loop, the z_mem write of their z,
/// and the two `ReductionTree`s that reduce a beat: the sum of the squares
/// (widening a bit a level, so exact) and the maximum |z|.
struct NormLaneArray {
  let squareSum: Expr
  let maxMagnitude: Expr

  /// Bits of one beat's sum of squares: 64 per square plus the tree's growth.
  static func beatSumBits(_ config: NormUnitConfig) -> Int { 64 + ceilLog2(config.lanes) }

  init(
    _ m: ModuleBuilder, _ config: NormUnitConfig, lane: Module, io: NormUnitPorts, input: NormFirstPass,
    output: NormSecondPass, memory: ModuleBuilder.MemoryHandle
  ) {
    let lanes = config.lanes
    let squares = m.wire("lane_square", .uint(64 * lanes), comment: "x^2 of lane i at [64*i +: 64]")
    let zs = m.wire("lane_z", .uint(config.beatBits), comment: "z of lane i at [32*i +: 32]")
    let zMagnitudes = m.wire(
      "lane_z_magnitude", .uint(config.beatBits), comment: "|z| of lane i at [32*i +: 32]")
    m.generate("gen_lane", count: lanes) { g in
      // Signed lane values go through wires: Yosys 0.23 asserts on `$signed(x)` of a whole signal in a port connection.
      let x = g.wire("x", g.slice(input.xBeat.state).asSigned)
      let gamma = g.wire("gamma", g.slice(input.gBeat.state).asSigned)
      let stored = g.wire("stored_z", g.slice(output.readData.state).asSigned)
      g.instance(lane, "u_lane", [
        ("clk_i", io.clk),
        ("enable_i", output.advance),
        ("second_pass_i", output.inOutput),
        ("x_i", x),
        ("gamma_i", gamma),
        ("stored_z_i", stored),
        ("mantissa_i", output.applyMantissa.state),
        ("shift_i", output.controls.shift),
        ("saturate_i", output.controls.saturate),
        ("square_o", g.slice(squares)),
        ("z_o", g.slice(zs)),
        ("z_magnitude_o", g.slice(zMagnitudes)),
        ("result_o", g.slice(io.yData)),
      ])
    }
    m.write(memory, enable: input.s1Valid.state, address: input.writeAddress.state, data: zs)
    let squareLeaves = (0..<lanes).map { i in squares[64 * i + 63, 64 * i] }
    squareSum = m.reductionTree("square_sum", squareLeaves, .sum()).extended(to: Self.beatSumBits(config))
    let magnitudeLeaves = (0..<lanes).map { i in zMagnitudes[32 * i + 31, 32 * i] }
    maxMagnitude = m.reductionTree("beat_max", magnitudeLeaves, .maximum)
  }
}
