import HWDSL
import HWSpec

extension AcceleratorGenerator {
  /// `u_norm`: NORM and QUANT take the operand beats a (x) and p (gamma).
  struct NormConnection {
    let ready, yValid, yReady, yLast, y, q, scaleMantissa, scaleExponent, valid: Expr

    init(_ t: Top, _ norm: Module, _ seq: SequencerRegisters, _ d: Decode, _ f: OperandFetch, _ k: Constants) {
      let m = t.m, e = t.e
      let normReady = m.wire("norm_x_ready", .bit)
      let normGReady = m.wire("norm_g_ready", .bit)
      let normYValid = m.wire("norm_y_valid", .bit)
      let normYLast = m.wire("norm_y_last", .bit)
      let normY = m.wire("norm_y_data", .uint(t.beatBits))
      let normQ = m.wire("norm_q_data", .uint(8 * e))
      let normScaleM = m.wire("norm_scale_mantissa", .uint(32))
      let normScaleE = m.wire("norm_scale_exponent", .sint(NormUnitConfig.scaleExponentBits))
      let normValid = m.wire("norm_valid", f.opValid.state && d.inBusy && d.usesNorm)
      let normYReady = m.wire(
        "norm_y_ready", !(d.opNorm && seq.mvYValid), comment: "QUANT's output goes to the packer, never blocked")
      let ports = NormUnitBundle(
        clk: t.io.clk, rst: t.io.rst,
        xValid: normValid, xReady: normReady, xData: f.opA.state, xLast: f.opLast.state,
        gValid: normValid, gReady: normGReady, gData: f.opP.state,
        mode: d.opQuant, length: t.fit(d.length, .uint(t.config.norm.lengthBits)), epsTerm: k.epsTerm.state,
        sqrtMantissa: k.sqrtMantissa.state, sqrtExponent: k.sqrtExponent.state,
        betaMantissa: k.betaMantissa.state, betaExponent: k.betaExponent.state,
        yValid: normYValid, yReady: normYReady, yLast: normYLast, yData: normY,
        qData: normQ, scaleMantissa: normScaleM, scaleExponent: normScaleE)
      m.instance(norm, "u_norm", ports, t.config.norm)
      let x = Stream(valid: normValid, ready: normReady, ["data": f.opA.state, "last": f.opLast.state])
      m.assertValidReady("NormXValidReady", x)
      m.assertValidReady("NormGValidReady", Stream(valid: normValid, ready: normGReady, ["data": f.opP.state]))
      let results = Stream(valid: normYValid, ready: normYReady, ["last": normYLast, "data": normY, "q": normQ])
      m.assertValidReady("NormYValidReady", results)
      NormDatapath.discard(m, "norm_g_ready", normGReady)
      (ready, yValid, yReady, yLast, y, q) = (normReady, normYValid, normYReady, normYLast, normY, normQ)
      (scaleMantissa, scaleExponent, valid) = (normScaleM, normScaleE, normValid)
    }
  }

  /// `u_mlgru`: RECUR (a = yi, b = yf, p = lb) and SILUMUL (a, b).
  struct MLGRUConnection {
    let ready, outValid, out, outLast, err: Expr

    init(_ t: Top, _ mlgru: Module, _ seq: SequencerRegisters, _ d: Decode, _ f: OperandFetch) {
      let m = t.m, bits = MLGRUOp.bits
      let mlgruReady = m.wire("mlgru_in_ready", .bit)
      let mlgruOutValid = m.wire("mlgru_out_valid", .bit)
      let mlgruOut = m.wire("mlgru_out_data", .uint(t.beatBits))
      let mlgruOutLast = m.wire("mlgru_out_last", .bit)
      let mlgruErr = m.wire("mlgru_err", .bit)
      let recur = Expr.mux(
        seq.fresh.state, .literal(MLGRUOp.recurFresh.rawValue, .uint(bits)), .literal(MLGRUOp.recur.rawValue, .uint(bits)))
      let mlgruOp = m.wire("mlgru_op", .mux(d.opRecur, recur, .literal(MLGRUOp.siluMul.rawValue, .uint(bits))))
      let config = t.config.mlgru
      let ports = MLGRUUnitBundle(
        clk: t.io.clk, rst: t.io.rst,
        inValid: f.opValid.state && d.inBusy && d.usesMLGRU, inReady: mlgruReady, inOp: mlgruOp,
        inLayer: t.fit(d.layerField, .uint(config.layerWidth)), inLen: t.fit(d.length, .uint(config.lengthWidth)),
        inX: f.opA.state, inY: f.opB.state, inLb: f.opP.state, inLast: f.opLast.state,
        outValid: mlgruOutValid, outReady: !seq.mvYValid, outData: mlgruOut, outLast: mlgruOutLast, err: mlgruErr)
      m.instance(mlgru, "u_mlgru", ports, config)
      let operands: KeyValuePairs = ["x": f.opA.state, "y": f.opB.state, "lb": f.opP.state, "last": f.opLast.state]
      m.assertValidReady("MLGRUInValidReady", Stream(valid: ports.inValid, ready: mlgruReady, operands))
      let results = Stream(valid: mlgruOutValid, ready: ports.outReady, ["data": mlgruOut, "last": mlgruOutLast])
      m.assertValidReady("MLGRUOutValidReady", results)
      (ready, outValid, out, outLast, err) = (mlgruReady, mlgruOutValid, mlgruOut, mlgruOutLast, mlgruErr)
    }
  }

  /// `u_vector`: ADD (a, b) and ARGMAX (a).
  struct VectorConnection {
    let ready, outValid, out, outLast, index, outReady: Expr

    init(_ t: Top, _ vector: Module, _ seq: SequencerRegisters, _ d: Decode, _ f: OperandFetch) {
      let m = t.m
      let vectorReady = m.wire("vector_in_ready", .bit)
      let vectorOutValid = m.wire("vector_out_valid", .bit)
      let vectorOut = m.wire("vector_out_data", .uint(t.beatBits))
      let vectorOutLast = m.wire("vector_out_last", .bit)
      let vectorIndex = m.wire("vector_out_index", .uint(16))
      let vectorMax = m.wire("vector_out_max", .sint(32))
      let vectorOutReady = m.wire(
        "vector_out_ready", !(d.opAdd && seq.mvYValid), comment: "ARGMAX writes nothing, never blocked")
      let ports = VectorUnitBundle(
        clk: t.io.clk, rst: t.io.rst,
        inValid: f.opValid.state && d.inBusy && d.usesVector, inReady: vectorReady, inOp: d.opArgmax, inLen: d.length,
        inA: f.opA.state, inB: f.opB.state, inLast: f.opLast.state,
        outValid: vectorOutValid, outReady: vectorOutReady, outData: vectorOut, outLast: vectorOutLast,
        outIndex: vectorIndex, outMax: vectorMax)
      m.instance(vector, "u_vector", ports, VectorUnitConfig(lanes: t.e))
      let operands: KeyValuePairs = ["a": f.opA.state, "b": f.opB.state, "last": f.opLast.state]
      m.assertValidReady("VectorInValidReady", Stream(valid: ports.inValid, ready: vectorReady, operands))
      let results = Stream(valid: vectorOutValid, ready: vectorOutReady, ["data": vectorOut, "last": vectorOutLast])
      m.assertValidReady("VectorOutValidReady", results)
      NormDatapath.discard(m, "vector_max", vectorMax)
      (ready, outValid, out, outLast) = (vectorReady, vectorOutValid, vectorOut, vectorOutLast)
      (index, outReady) = (vectorIndex, vectorOutReady)
    }
  }

  /// The operand register's consumer: the unit the instruction uses, or the checkpoint port.
  static func connectConsumer(
    _ t: Top, _ d: Decode, _ f: OperandFetch, _ norm: NormConnection, _ mlgru: MLGRUConnection,
    _ vector: VectorConnection
  ) {
    let ckpt = t.io.ckptReady && d.opCkpt
    t.m.assign(
      f.consumerReady, .mux(d.usesNorm, norm.ready, .mux(d.usesMLGRU, mlgru.ready, .mux(d.usesVector, vector.ready, ckpt))))
  }
}
