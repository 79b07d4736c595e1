import HWDSL
import HWSpec

/// The MLGRU unit: the element-wise half of the MLGRU token mixer and of the
/// GLU, `lanes` elements per cycle, bit-exact to `MLGRUGolden`.
///
/// Operations (`MLGRUOp`, on `in_op_i`):
/// - recur (0): h = recur(yf, yi, lb, h_prev) per element, h_prev from the
///   layer's h in the on-chip memory; h is written back and streamed out.
/// - recur-fresh (1): the same with h_prev = 0, for the first token of a
///   sequence (the memory is not read, only written).
/// - silu-mul (2): SiLU(a) * b (the GLU's SiLU(gate) * u, and the MLGRU
///   output gate SiLU(h) * g_norm); h untouched.
/// - clear (3): the layer's h = 0 for the vector's elements; zeros stream out.
///
/// Streams (valid/ready; a source holds a presented beat until it is taken):
/// - Input: one combined beat per `lanes` elements on three data ports,
///   `in_x_i` (yi or a: the SiLU operand), `in_y_i` (yf or b), `in_lb_i` (lb;
///   ignored by the other ops); element `lanes*i + j` of a vector in beat i,
///   lane j at bits [32*j +: 32]. `in_op_i`, `in_layer_i` and `in_len_i` (the
///   vector length n) are sampled with the first beat of a vector and ignored
///   on the others. The unit counts ceil(n / lanes) beats (one beat for n = 0);
///   `in_last_i` must mark the final one. Lanes past n in the final beat are
///   ignored: their output is 0 and their h is not written.
/// - Output: one beat per input beat, in order, `out_last_o` on the final beat
///   of a vector.
/// - `err_o` (sticky until reset) flags a protocol error: n = 0, n > maxHidden
///   (processed as maxHidden), a layer index >= maxLayers (processed with
///   h_prev = 0 and no h write), an op on h (recur, recur-fresh, clear) with
///   n > stateLength when that is below maxHidden (processed the same way), or
///   `in_last_i` disagreeing with the count.
///
/// Reset (`rst_ni`, asynchronous, active low) empties the pipeline and ends
/// any vector in progress: the next beat is a first beat. It does not clear
/// the h memory (a block RAM has no reset): start each layer's sequence with
/// recur-fresh, or run clear, before the first recur.
///
/// Pipeline: input registers (stage 1) and eight lane stages (`mlgru_lane`),
/// one beat per cycle, `latency` cycles from an input handshake to its
/// output beat. A stalled output stalls everything; no beat is dropped. h is
/// read at the stage 5 -> 6 edge and written at the stage 8 -> 9 edge, so a
/// recur beat may only enter stage 2 when no earlier beat to the same h
/// address is in stages 2-4 (a vector of fewer than four beats followed by a
/// recur of the same layer); otherwise it waits in stage 1 and a bubble moves
/// on. Different addresses never wait.
public enum MLGRUUnitGenerator: UnitGenerator {
  public static let unitName = "mlgru unit"
  /// Cycles from an input handshake to the corresponding output beat.
  public static let latency = 1 + MLGRULaneGenerator.stages

  public static func generate(_ config: MLGRUUnitConfig) throws -> Design {
    try config.validate()
    let sigmoid = try MLGRULaneGenerator.sigmoidModule()
    let lane = try MLGRULaneGenerator.laneModule(config, sigmoid: sigmoid)
    return try Design(top: unitModule(config, lane: lane))
  }

  public static func manifestParameters(_ config: MLGRUUnitConfig) -> [(key: String, value: String)] {
    [("lanes", "\(config.lanes)"), ("maxLayers", "\(config.maxLayers)"), ("maxHidden", "\(config.maxHidden)")]
      + (config.shortState ? [("stateLength", "\(config.stateLength)")] : [])
  }
}
