import HWDSL
import HWSpec

// The interfaces of the units the accelerator top instantiates, as typed
// port bundles: the top connects each instance from one of these values, and
// `UnitPortsTests` checks every table against the port list of the module the
// unit's generator builds (names, directions, widths, comments), so a unit
// and the top cannot drift apart.

/// `norm_unit`: the x and gamma operand streams, the constants, the y result
/// stream with its quantize-mode outputs.
struct NormUnitBundle: PortBundle {
  var clk = Expr.unconnected, rst = Expr.unconnected
  var xValid = Expr.unconnected, xReady = Expr.unconnected, xData = Expr.unconnected, xLast = Expr.unconnected
  var gValid = Expr.unconnected, gReady = Expr.unconnected, gData = Expr.unconnected
  var mode = Expr.unconnected, length = Expr.unconnected, epsTerm = Expr.unconnected
  var sqrtMantissa = Expr.unconnected, sqrtExponent = Expr.unconnected
  var betaMantissa = Expr.unconnected, betaExponent = Expr.unconnected
  var yValid = Expr.unconnected, yReady = Expr.unconnected, yLast = Expr.unconnected, yData = Expr.unconnected
  var qData = Expr.unconnected, scaleMantissa = Expr.unconnected, scaleExponent = Expr.unconnected

  static func ports(_ config: NormUnitConfig) -> [PortSpec<Self>] {
    let beat = HWType.uint(config.beatBits)
    return [
      .clock(\.clk), .reset(\.rst),
      .input("x_valid", .bit, \.xValid), .output("x_ready", .bit, \.xReady),
      .input("x_data", beat, \.xData, comment: "Q15.16 element i at [32*i +: 32]"),
      .input("x_last", .bit, \.xLast, comment: "last beat of a vector"),
      .input("g_valid", .bit, \.gValid), .output("g_ready", .bit, \.gReady),
      .input("g_data", beat, \.gData, comment: "gamma, Q15.16, same layout"),
      .input("mode", .bit, \.mode, comment: "0 norm, 1 quantize; with the first beat"),
      .input("length", .uint(config.lengthBits), \.length, comment: "elements in the vector; with the first beat"),
      .input("eps_term", .uint(64), \.epsTerm, comment: "LengthConstants.epsTerm"),
      .input("sqrt_len_mantissa", .uint(32), \.sqrtMantissa, comment: "LengthConstants.sqrtLength"),
      .input("sqrt_len_exponent", .sint(NormUnitConfig.sqrtLengthExponentBits), \.sqrtExponent),
      .input("beta_mantissa", .uint(32), \.betaMantissa, comment: "quantize mode: the weights' beta"),
      .input("beta_exponent", .sint(NormUnitConfig.betaExponentBits), \.betaExponent),
      .output("y_valid", .bit, \.yValid), .input("y_ready", .bit, \.yReady), .output("y_last", .bit, \.yLast),
      .output("y_data", beat, \.yData, comment: "norm mode: Q15.16 element i at [32*i +: 32]"),
      .output("q_data", .uint(config.int8BeatBits), \.qData, comment: "quantize mode: int8 element i at [8*i +: 8]"),
      .output("scale_mantissa", .uint(32), \.scaleMantissa, comment: "quantize mode: outputScale"),
      .output("scale_exponent", .sint(NormUnitConfig.scaleExponentBits), \.scaleExponent),
    ]
  }
}

/// `mlgru_unit`: one operand stream (op, layer and length with the first
/// beat), one result stream, the sticky protocol error.
struct MLGRUUnitBundle: PortBundle {
  var clk = Expr.unconnected, rst = Expr.unconnected
  var inValid = Expr.unconnected, inReady = Expr.unconnected, inOp = Expr.unconnected
  var inLayer = Expr.unconnected, inLen = Expr.unconnected
  var inX = Expr.unconnected, inY = Expr.unconnected, inLb = Expr.unconnected, inLast = Expr.unconnected
  var outValid = Expr.unconnected, outReady = Expr.unconnected, outData = Expr.unconnected
  var outLast = Expr.unconnected, err = Expr.unconnected

  static func ports(_ config: MLGRUUnitConfig) -> [PortSpec<Self>] {
    let beat = HWType.uint(config.beatBits)
    return [
      .clock(\.clk), .reset(\.rst),
      .input("in_valid", .bit, \.inValid), .output("in_ready", .bit, \.inReady),
      .input("in_op", .uint(MLGRUOp.bits), \.inOp, comment: "first beat: 0 recur, 1 recur-fresh, 2 silu-mul, 3 clear"),
      .input("in_layer", .uint(config.layerWidth), \.inLayer, comment: "first beat: layer of h"),
      .input("in_len", .uint(config.lengthWidth), \.inLen, comment: "first beat: vector length n"),
      .input("in_x", beat, \.inX, comment: "yi (recur) or a (silu-mul)"),
      .input("in_y", beat, \.inY, comment: "yf (recur) or b (silu-mul)"),
      .input("in_lb", beat, \.inLb, comment: "lb (recur); ignored by the other ops"),
      .input("in_last", .bit, \.inLast, comment: "final beat of the vector; checked against in_len_i"),
      .output("out_valid", .bit, \.outValid), .input("out_ready", .bit, \.outReady),
      .output("out_data", beat, \.outData, comment: "h, SiLU(a) * b or 0; lane j at [32*j +: 32]"),
      .output("out_last", .bit, \.outLast, comment: "final beat of the vector"),
      .output("err", .bit, \.err, comment: "sticky protocol error"),
    ]
  }
}

/// `vector_unit`: the a/b operand stream (op and length with the first
/// beat), the result stream with argmax's index and maximum.
struct VectorUnitBundle: PortBundle {
  var clk = Expr.unconnected, rst = Expr.unconnected
  var inValid = Expr.unconnected, inReady = Expr.unconnected, inOp = Expr.unconnected, inLen = Expr.unconnected
  var inA = Expr.unconnected, inB = Expr.unconnected, inLast = Expr.unconnected
  var outValid = Expr.unconnected, outReady = Expr.unconnected, outData = Expr.unconnected, outLast = Expr.unconnected
  var outIndex = Expr.unconnected, outMax = Expr.unconnected

  static func ports(_ config: VectorUnitConfig) -> [PortSpec<Self>] {
    let beat = HWType.uint(32 * config.lanes), length = HWType.uint(config.lengthWidth)
    return [
      .clock(\.clk), .reset(\.rst),
      .input("in_valid", .bit, \.inValid), .output("in_ready", .bit, \.inReady),
      .input("in_op", .bit, \.inOp, comment: "first beat: 0 add, 1 argmax"),
      .input("in_len", length, \.inLen, comment: "first beat: vector length n"),
      .input("in_a", beat, \.inA), .input("in_b", beat, \.inB, comment: "add: second operand; argmax: ignored"),
      .input("in_last", .bit, \.inLast),
      .output("out_valid", .bit, \.outValid), .input("out_ready", .bit, \.outReady),
      .output("out_data", beat, \.outData), .output("out_last", .bit, \.outLast),
      .output("out_index", length, \.outIndex, comment: "argmax: index of the maximum (valid with the final beat)"),
      .output("out_max", .sint(32), \.outMax, comment: "argmax: the maximum"),
    ]
  }
}

/// A `StreamFIFOGenerator` FIFO: the in and out streams, the read-side hold
/// and the fill level.
struct StreamFIFOBundle: PortBundle {
  var clk = Expr.unconnected, rst = Expr.unconnected
  var inValid = Expr.unconnected, inReady = Expr.unconnected, inData = Expr.unconnected
  var outValid = Expr.unconnected, outReady = Expr.unconnected, outData = Expr.unconnected
  var hold = Expr.unconnected, level = Expr.unconnected

  static func ports(_ config: StreamFIFOConfig) -> [PortSpec<Self>] {
    [
      .clock(\.clk), .reset(\.rst),
      .input("in_valid", .bit, \.inValid), .output("in_ready", .bit, \.inReady),
      .input("in_data", .uint(config.width), \.inData),
      .output("out_valid", .bit, \.outValid), .input("out_ready", .bit, \.outReady),
      .output("out_data", .uint(config.width), \.outData),
      .input("hold", .bit, \.hold, comment: "freeze the read side"),
      .output("level", .uint(bitsToRepresent(config.depth + 1)), \.level, comment: "beats held, output register included"),
    ]
  }
}

/// `matvec_datapath`: the weight and activation streams in, the scale and
/// row-group count held for a vector, the result stream out, two counters.
struct MatVecDatapathBundle: PortBundle {
  /// The activation beat and the output scale, one of each per stream (stream s at slice s).
  static func streamInputs(_ config: AcceleratorConfig) -> [PortSpec<Self>] {
    let c = config.core, e = NormUnitConfig.scaleExponentBits, n = config.streams
    guard n > 1 else {
      return [
        .input("a_data", .uint(c.activationBeatBits), \.aData),
        .input("scale_mantissa", .uint(32), \.scaleMantissa),
        .input("scale_exponent", .sint(e), \.scaleExponent),
      ]
    }
    let a = c.activationBeatBits
    return [
      .input("a_data", .uint(n * a), \.aData, comment: "stream s's activation beat at [\(a)*s +: \(a)]"),
      .input("scale_mantissa", .uint(n * 32), \.scaleMantissa, comment: "stream s's output scale at [32*s +: 32]"),
      .input("scale_exponent", .uint(n * e), \.scaleExponent, comment: "its exponent at [\(e)*s +: \(e)]"),
    ]
  }

  var clk = Expr.unconnected, rst = Expr.unconnected
  var wValid = Expr.unconnected, wReady = Expr.unconnected, wData = Expr.unconnected, wLast = Expr.unconnected
  var aValid = Expr.unconnected, aReady = Expr.unconnected, aData = Expr.unconnected
  var scaleMantissa = Expr.unconnected, scaleExponent = Expr.unconnected, groups = Expr.unconnected
  var yValid = Expr.unconnected, yReady = Expr.unconnected, yData = Expr.unconnected, yLast = Expr.unconnected
  var perfBeats = Expr.unconnected, perfStalls = Expr.unconnected

  static func ports(_ config: AcceleratorConfig) -> [PortSpec<Self>] {
    let c = config.core
    return [
      .clock(\.clk), .reset(\.rst),
      .input("w_valid", .bit, \.wValid), .output("w_ready", .bit, \.wReady),
      .input("w_data", .uint(c.weightBeatBits), \.wData),
      .input("w_last", .bit, \.wLast, comment: "last beat of a row group"),
      .input("a_valid", .bit, \.aValid), .output("a_ready", .bit, \.aReady),
    ] + streamInputs(config) + [
      .input("groups", .uint(MatVecDatapathGenerator.groupWidth), \.groups, comment: "row groups of the vector (>= 1)"),
      .output("y_valid", .bit, \.yValid), .input("y_ready", .bit, \.yReady),
      .output("y_data", .uint(config.norm.beatBits), \.yData), .output("y_last", .bit, \.yLast),
      .output("perf_beats", .uint(32), \.perfBeats, comment: "weight beats taken since reset (wraps)"),
      .output(
        "perf_stalls", .uint(32), \.perfStalls, comment: "cycles an activation beat waited for its weight beat (wraps)"),
    ]
  }
}
