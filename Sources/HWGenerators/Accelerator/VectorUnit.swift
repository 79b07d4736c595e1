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
    let m = ModuleBuilder(
      "vector_unit",
      comment: [
        "Vector unit: saturating Q15.16 add (op 0) and argmax, lowest index on ties (op 1),",
        "\(lanes) elements a cycle. in_op_i and in_len_i are sampled with a vector's first beat.",
      ])
    let io = VectorUnitPorts(m, lanes: lanes, lengthWidth: lengthWidth)
    let state = VectorUnitState(m, lanes: lanes, lengthType: io.inLen.type)
    let beat = VectorUnitBeat(m, lanes: lanes, io: io, state: state)
    let best = beat.runningBest(m, state: state)
    let nextBase = m.wire("next_base", beat.start + .literal(lanes, io.inLen.type))
    m.comb {
      Assign(state.oValid.next, state.oValid.state && !io.outReady)
      If(beat.fire) {
        Assign(state.busy.next, !io.inLast)
        Assign(state.vecOp.next, beat.op)
        Assign(state.vecLen.next, beat.len)
        Assign(state.base.next, nextBase)
        Assign(state.bestValue.next, best.value)
        Assign(state.bestIndex.next, best.index)
        Assign(state.hasBest.next, best.has)
        Assign(state.oValid.next, .high)
        Assign(state.oData.next, beat.data)
        Assign(state.oLast.next, io.inLast)
      }
    }
    m.assign(io.outValid, state.oValid.state)
    m.assign(io.outData, state.oData.state)
    m.assign(io.outLast, state.oLast.state)
    m.assign(io.outIndex, state.bestIndex.state)
    m.assign(io.outMax, state.bestValue.state)
    return try m.finish()
  }
}

/// The vector unit's ports, declared in the order the module lists them.
struct VectorUnitPorts {
  let inValid, inReady, inOp, inLen, inA, inB, inLast: Expr
  let outValid, outReady, outData, outLast, outIndex, outMax: Expr

  init(_ m: ModuleBuilder, lanes: Int, lengthWidth: Int) {
    let beatBits = 32 * lanes
    let lenType = HWType.uint(lengthWidth)
    _ = m.clock()
    _ = m.reset()
    inValid = m.input("in_valid", .bit)
    inReady = m.output("in_ready", .bit)
    inOp = m.input("in_op", .bit, comment: "first beat: 0 add, 1 argmax")
    inLen = m.input("in_len", lenType, comment: "first beat: vector length n")
    inA = m.input("in_a", .uint(beatBits))
    inB = m.input("in_b", .uint(beatBits), comment: "add: second operand; argmax: ignored")
    inLast = m.input("in_last", .bit)
    outValid = m.output("out_valid", .bit)
    outReady = m.input("out_ready", .bit)
    outData = m.output("out_data", .uint(beatBits))
    outLast = m.output("out_last", .bit)
    outIndex = m.output("out_index", lenType, comment: "argmax: index of the maximum (valid with the final beat)")
    outMax = m.output("out_max", .sint(32), comment: "argmax: the maximum")
  }
}

/// The vector in progress (op, length, the next beat's first index), the
/// maximum so far and the output register.
struct VectorUnitState {
  let busy, vecOp, vecLen, base, bestValue, bestIndex, hasBest, oValid, oData, oLast: ModuleBuilder.RegisterHandle

  init(_ m: ModuleBuilder, lanes: Int, lengthType lenType: HWType) {
    busy = m.register("busy", .bit, holds: true, comment: "inside a vector")
    vecOp = m.register("vec_op", .bit, reset: .none, holds: true)
    vecLen = m.register("vec_len", lenType, reset: .none, holds: true)
    base = m.register("base", lenType, reset: .none, holds: true, comment: "element index of the next beat's lane 0")
    bestValue = m.register("best_value", .sint(32), reset: .none, holds: true, comment: "largest element so far")
    bestIndex = m.register("best_index", lenType, reset: .none, holds: true)
    hasBest = m.register("has_best", .bit, reset: .none, holds: true, comment: "bestValue holds an element")
    oValid = m.register("o_valid", .bit)
    oData = m.register("o_data", .uint(32 * lanes), reset: .none, holds: true)
    oLast = m.register("o_last", .bit, reset: .none, holds: true)
  }
}

/// One input beat: its op and length (from the ports on a first beat), the
/// handshake, each lane's index, validity and saturating sum (`Fixed.add`),
/// and the beat's argmax as a `ReductionTree` over the valid lanes.
struct VectorUnitBeat {
  let first, op, len, start, fire: Expr
  let data: Expr
  /// The beat's (any lane valid, maximum, its index), lowest index on ties.
  let best: [Expr]

  init(_ m: ModuleBuilder, lanes: Int, io: VectorUnitPorts, state: VectorUnitState) {
    let word = HWType.sint(32)
    let lenType = io.inLen.type
    first = m.wire("first", !state.busy.state)
    op = m.wire("op", .mux(first, io.inOp, state.vecOp.state))
    len = m.wire("len", .mux(first, io.inLen, state.vecLen.state))
    start = m.wire("start", .mux(first, .zeros(lenType), state.base.state))
    fire = m.wire("fire", io.inValid && (!state.oValid.state || io.outReady))
    m.assign(io.inReady, !state.oValid.state || io.outReady)

    var sums: [Expr] = []
    var leaves: [[Expr]] = []
    for j in 0..<lanes {
      let a = m.wire("a_\(j)", lanes == 1 ? io.inA.asSigned : io.inA[32 * j + 31, 32 * j].asSigned)
      let b = m.wire("b_\(j)", lanes == 1 ? io.inB.asSigned : io.inB[32 * j + 31, 32 * j].asSigned)
      let index = m.wire("index_\(j)", start + .literal(j, lenType))
      let valid = m.wire("valid_\(j)", index.lt(len))
      let sum = FixedPointRTL.add(m, "sum_\(j)", a, b)
      sums.append(m.wire("res_\(j)", .mux(valid && !op, sum, .zeros(word))))
      leaves.append([valid, a, index])
    }
    data = m.wire("beat_data", .concat(sums.reversed()))
    best = m.reductionTree("beat_best", leaves, .argmax)
  }

  /// The maximum so far with this beat's: the beat wins only when strictly
  /// larger (its indices are higher); a first beat starts from nothing.
  func runningBest(_ m: ModuleBuilder, state: VectorUnitState) -> (value: Expr, index: Expr, has: Expr) {
    let valueIn = m.wire("run_value_in", .mux(first, .literal(Int(Int32.min), .sint(32)), state.bestValue.state))
    let indexIn = m.wire("run_index_in", .mux(first, .zeros(start.type), state.bestIndex.state))
    let hasIn = m.wire("run_has_in", !first && state.hasBest.state)
    let better = m.wire("better", best[0] && (!hasIn || best[1].gt(valueIn)), comment: "this beat holds a new maximum")
    return (
      m.wire("run_value", .mux(better, best[1], valueIn)),
      m.wire("run_index", .mux(better, best[2], indexIn)),
      m.wire("run_has", hasIn || best[0])
    )
  }
}
