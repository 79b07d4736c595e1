import HWDSL
import HWSpec

/// The accelerator's vector unit: the residual adds (saturating Q15.16
/// `Fixed.add`, `lanes` elements a cycle) and the argmax reducer over the
/// logits (the lowest index on ties, `FixedPointModel.argmax`).
///
/// Streams (valid/ready): one input beat of `lanes` elements of a and b
/// (lane j at [32*j +: 32], element `lanes*i + j` in beat i), `in_op_i`
/// (0 add, 1 argmax) and `in_len_i` sampled with a vector's first beat,
/// `in_last_i` on its final beat; lanes past n are ignored (output 0, never
/// the maximum). One output beat per input beat, one cycle later: the sums
/// (add) or zeros (argmax); with the final beat of an argmax vector,
/// `out_index_o` and `out_max_o` hold the index and value of the maximum.
public struct VectorUnitConfig: Sendable, Equatable {
  /// Elements per beat, 1 to 64.
  public var lanes: Int
  /// Bits of `in_len_i`, 2 to 24.
  public var lengthWidth: Int

  public init(lanes: Int, lengthWidth: Int = 16) {
    self.lanes = lanes
    self.lengthWidth = lengthWidth
  }
}

/// The vector unit's generator (see `VectorUnitConfig`).
public enum VectorUnitGenerator: UnitGenerator {
  public static let unitName = "vector unit"

  public static func generate(_ config: VectorUnitConfig) throws -> Design {
    precondition(config.lanes >= 1 && config.lanes <= 64 && config.lengthWidth >= 2 && config.lengthWidth <= 24)
    return try Design(top: unitModule(lanes: config.lanes, lengthWidth: config.lengthWidth))
  }

  public static func manifestParameters(_ config: VectorUnitConfig) -> [(key: String, value: String)] {
    [("lanes", "\(config.lanes)")]
  }

  static func unitModule(lanes: Int, lengthWidth: Int) throws -> Module {
    let word = HWType.sint(32)
    let beatBits = 32 * lanes
    let lenType = HWType.uint(lengthWidth)
    let m = ModuleBuilder(
      "vector_unit",
      comment: [
        "Vector unit: saturating Q15.16 add (op 0) and argmax, lowest index on ties (op 1),",
        "\(lanes) elements a cycle. in_op_i and in_len_i are sampled with a vector's first beat.",
      ])
    _ = m.clock()
    _ = m.reset()
    let inValid = m.input("in_valid", .bit)
    let inReady = m.output("in_ready", .bit)
    let inOp = m.input("in_op", .bit, comment: "first beat: 0 add, 1 argmax")
    let inLen = m.input("in_len", lenType, comment: "first beat: vector length n")
    let inA = m.input("in_a", .uint(beatBits))
    let inB = m.input("in_b", .uint(beatBits), comment: "add: second operand; argmax: ignored")
    let inLast = m.input("in_last", .bit)
    let outValid = m.output("out_valid", .bit)
    let outReady = m.input("out_ready", .bit)
    let outData = m.output("out_data", .uint(beatBits))
    let outLast = m.output("out_last", .bit)
    let outIndex = m.output("out_index", lenType, comment: "argmax: index of the maximum (valid with the final beat)")
    let outMax = m.output("out_max", word, comment: "argmax: the maximum")

    let busy = m.register("busy", .bit, holds: true, comment: "inside a vector")
    let vecOp = m.register("vec_op", .bit, reset: .none, holds: true)
    let vecLen = m.register("vec_len", lenType, reset: .none, holds: true)
    let base = m.register("base", lenType, reset: .none, holds: true, comment: "element index of the next beat's lane 0")
    let bestValue = m.register("best_value", word, reset: .none, holds: true, comment: "largest element so far")
    let bestIndex = m.register("best_index", lenType, reset: .none, holds: true)
    let hasBest = m.register("has_best", .bit, reset: .none, holds: true, comment: "bestValue holds an element")
    let oValid = m.register("o_valid", .bit)
    let oData = m.register("o_data", .uint(beatBits), reset: .none, holds: true)
    let oLast = m.register("o_last", .bit, reset: .none, holds: true)

    let first = m.wire("first", !busy.state)
    let op = m.wire("op", .mux(first, inOp, vecOp.state))
    let len = m.wire("len", .mux(first, inLen, vecLen.state))
    let start = m.wire("start", .mux(first, .zeros(lenType), base.state))
    let fire = m.wire("fire", inValid && (!oValid.state || outReady))
    m.assign(inReady, !oValid.state || outReady)

    var sums: [Expr] = []
    var runValue = m.wire("run_value_in", .mux(first, .literal(Int(Int32.min), word), bestValue.state))
    var runIndex = m.wire("run_index_in", .mux(first, .zeros(lenType), bestIndex.state))
    var runHas = m.wire("run_has_in", !first && hasBest.state)
    for j in 0..<lanes {
      let a = m.wire("a_\(j)", lanes == 1 ? inA.asSigned : inA[32 * j + 31, 32 * j].asSigned)
      let b = m.wire("b_\(j)", lanes == 1 ? inB.asSigned : inB[32 * j + 31, 32 * j].asSigned)
      let index = m.wire("index_\(j)", start + .literal(j, lenType))
      let valid = m.wire("valid_\(j)", index.lt(len))
      let sat = FixedPointRTL.add(m, "sum_\(j)", a, b)
      sums.append(m.wire("res_\(j)", .mux(valid && !op, sat, .zeros(word))))
      let better = m.wire("better_\(j)", valid && (!runHas || a.gt(runValue)))
      runValue = m.wire("run_value_\(j)", .mux(better, a, runValue))
      runIndex = m.wire("run_index_\(j)", .mux(better, index, runIndex))
      runHas = m.wire("run_has_\(j)", runHas || valid)
    }
    let beatData = m.wire("beat_data", .concat(sums.reversed()))
    let nextBase = m.wire("next_base", start + .literal(lanes, lenType))

    m.comb {
      Assign(oValid.next, oValid.state && !outReady)
      If(fire) {
        Assign(busy.next, !inLast)
        Assign(vecOp.next, op)
        Assign(vecLen.next, len)
        Assign(base.next, nextBase)
        Assign(bestValue.next, runValue)
        Assign(bestIndex.next, runIndex)
        Assign(hasBest.next, runHas)
        Assign(oValid.next, .high)
        Assign(oData.next, beatData)
        Assign(oLast.next, inLast)
      }
    }
    m.assign(outValid, oValid.state)
    m.assign(outData, oData.state)
    m.assign(outLast, oLast.state)
    m.assign(outIndex, bestIndex.state)
    m.assign(outMax, bestValue.state)
    return try m.finish()
  }
}
