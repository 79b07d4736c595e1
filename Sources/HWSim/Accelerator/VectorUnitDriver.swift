import Foundation
import HWGenerators
import HWSpec
import HWVerilator

/// The Verilated `vector_unit`, out of reset, with its stream driver.
public final class VectorUnitSimulation {
  public let lanes: Int
  public let model: VerilatedModel
  let rstN, inValid, inReady, inOp, inLen, inA, inB, inLast, outValid, outReady, outData, outLast, outIndex, outMax: PortHandle

  public init(lanes: Int, cache: VerilatorBuildCache = VerilatorBuildCache()) throws {
    self.lanes = lanes
    let (design, files) = try VectorUnitGenerator.files(VectorUnitConfig(lanes: lanes))
    let library = try cache.library(for: VerilatorBuildSpec(design: design, sources: files))
    model = try VerilatedModel(library: library)
    rstN = try model.port("rst_ni")
    inValid = try model.port("in_valid_i")
    inReady = try model.port("in_ready_o")
    inOp = try model.port("in_op_i")
    inLen = try model.port("in_len_i")
    inA = try model.port("in_a_i")
    inB = try model.port("in_b_i")
    inLast = try model.port("in_last_i")
    outValid = try model.port("out_valid_o")
    outReady = try model.port("out_ready_i")
    outData = try model.port("out_data_o")
    outLast = try model.port("out_last_o")
    outIndex = try model.port("out_index_o")
    outMax = try model.port("out_max_o")
    model.set(inValid, 0)
    model.set(outReady, 0)
    model.set(rstN, 0)
    try model.eval()
    try model.step(2)
    model.set(rstN, 1)
    try model.eval()
  }

  public struct Result {
    public var values: [Int32]
    public var index: Int
    public var max: Int32
    public var cycles: Int
  }

  /// Streams one vector through (op 0: a + b saturating; op 1: argmax of a).
  public func run(argmax: Bool, _ a: [Int32], _ b: [Int32]? = nil) throws -> Result {
    let n = a.count
    precondition(n >= 1 && n < 1 << 16 && (b == nil || b!.count == n))
    let beats = (n + lanes - 1) / lanes
    var aWords = [UInt32](repeating: 0, count: beats * lanes)
    var bWords = [UInt32](repeating: 0, count: beats * lanes)
    for i in 0..<n {
      aWords[i] = UInt32(bitPattern: a[i])
      if let b { bWords[i] = UInt32(bitPattern: b[i]) }
    }
    var values: [Int32] = []
    values.reserveCapacity(beats * lanes)
    var out = [UInt32](repeating: 0, count: lanes)
    var sent = 0, cycles = 0
    var index = 0
    var maxValue: Int32 = 0
    model.set(outReady, 1)
    model.set(inOp, argmax ? 1 : 0)
    model.set(inLen, UInt64(n))
    while values.count < beats * lanes {
      if sent < beats {
        aWords.withUnsafeBufferPointer { model.set(inA, words: $0.baseAddress! + sent * lanes) }
        bWords.withUnsafeBufferPointer { model.set(inB, words: $0.baseAddress! + sent * lanes) }
        model.set(inLast, sent == beats - 1 ? 1 : 0)
      }
      model.set(inValid, sent < beats ? 1 : 0)
      try model.eval()
      let fire = sent < beats && model.get(inReady) == 1
      if model.get(outValid) == 1 {
        out.withUnsafeMutableBufferPointer { model.get(outData, into: $0.baseAddress!) }
        values += out.map { Int32(bitPattern: $0) }
        if model.get(outLast) == 1 {
          index = Int(model.get(outIndex))
          maxValue = Int32(truncatingIfNeeded: model.get(outMax))
        }
      }
      try model.step(1)
      cycles += 1
      if fire { sent += 1 }
      if cycles > 16 + 4 * beats { throw TestbenchError("vector unit: no progress after \(cycles) cycles") }
    }
    model.set(inValid, 0)
    try model.eval()
    return Result(values: Array(values.prefix(n)), index: index, max: maxValue, cycles: cycles)
  }
}
