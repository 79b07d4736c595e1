import Foundation
import HWDSL
import HWGenerators
import HWGolden
import HWSpec
import HWSupport
import HWVerilator

/// One vector operation for the MLGRU unit: what goes on its input stream.
public struct MLGRUUnitOperation: Sendable {
  public var op: MLGRUOp
  public var layer: Int
  /// n, sent on `in_len_i` (0, values above maxHidden, and above stateLength for
  /// an op on h, are protocol errors).
  public var length: Int
  /// yi (recur) or a (silu-mul); `length` elements (ignored by clear).
  public var x: [Int32]
  /// yf (recur) or b (silu-mul).
  public var y: [Int32]
  /// lb (recur); ignored by the other ops.
  public var lb: [Int32]
  /// Drive `in_last_i` inverted on every beat (a protocol error).
  public var wrongLast = false

  public init(op: MLGRUOp, layer: Int, length: Int, x: [Int32], y: [Int32], lb: [Int32]) {
    precondition(x.count >= length && y.count >= length && lb.count >= length, "operands shorter than the length")
    self.op = op
    self.layer = layer
    self.length = length
    self.x = x
    self.y = y
    self.lb = lb
  }

  public static func recur(layer: Int, yf: [Int32], yi: [Int32], lb: [Int32], fresh: Bool = false) -> Self {
    Self(op: fresh ? .recurFresh : .recur, layer: layer, length: yf.count, x: yi, y: yf, lb: lb)
  }

  public static func siluMul(_ a: [Int32], _ b: [Int32]) -> Self {
    Self(op: .siluMul, layer: 0, length: a.count, x: a, y: b, lb: [Int32](repeating: 0, count: a.count))
  }

  public static func clear(layer: Int, length: Int) -> Self {
    let zeros = [Int32](repeating: 0, count: length)
    return Self(op: .clear, layer: layer, length: length, x: zeros, y: zeros, lb: zeros)
  }

  /// Elements the unit processes: n, at most maxHidden.
  public func elements(_ config: MLGRUUnitConfig) -> Int { min(length, config.maxHidden) }
  /// Beats of the vector: ceil(n / lanes), at least one.
  public func beats(_ config: MLGRUUnitConfig) -> Int { max(1, (elements(config) + config.lanes - 1) / config.lanes) }
}

/// The unit's architectural state as the golden model sees it: every layer's
/// h, element by element, `nil` where it is unknown (never written since the
/// bench started, or written by a vector that a reset cut short).
public struct MLGRUUnitReference: Sendable {
  public let config: MLGRUUnitConfig
  public private(set) var h: [[Int32?]]

  public struct UnknownState: Error, CustomStringConvertible {
    public let description: String
  }

  public init(config: MLGRUUnitConfig) {
    self.config = config
    h = [[Int32?]](repeating: [Int32?](repeating: nil, count: config.stateLength), count: config.maxLayers)
  }

  /// The layer's h as known (a recur reads it).
  public func state(layer: Int) -> [Int32?] { h[layer] }

  /// Forgets what the layer's h holds (after a reset cut a vector short).
  public mutating func forget(layer: Int) {
    guard layer < config.maxLayers else { return }
    h[layer] = [Int32?](repeating: nil, count: config.stateLength)
  }

  /// The output elements of one operation (`elements` of them; the lanes
  /// past n read 0), updating h as the unit does.
  public mutating func apply(_ operation: MLGRUUnitOperation) throws -> [Int32] {
    let n = operation.elements(config)
    // A layer out of range, or an op on h longer than a layer's h, leaves h alone (and reads 0).
    let hOk = operation.layer < config.maxLayers && (operation.op == .siluMul || operation.length <= config.stateLength)
    switch operation.op {
    case .siluMul:
      return (0..<n).map { MLGRUGolden.siluMul(operation.x[$0], operation.y[$0]) }
    case .clear:
      if hOk { for i in 0..<n { h[operation.layer][i] = 0 } }
      return [Int32](repeating: 0, count: n)
    case .recur, .recurFresh:
      var out: [Int32] = []
      out.reserveCapacity(n)
      for i in 0..<n {
        var prev: Int32 = 0
        if operation.op == .recur && hOk {
          guard let known = h[operation.layer][i] else {
            throw UnknownState(description: "recur reads h[\(operation.layer)][\(i)], which no operation has defined")
          }
          prev = known
        }
        let next = MLGRUGolden.recur(yf: operation.y[i], yi: operation.x[i], lb: operation.lb[i], hPrev: prev)
        if hOk { h[operation.layer][i] = next }
        out.append(next)
      }
      return out
    }
  }
}

/// How often the input source presents a beat when it may, and how often the
/// output sink accepts one. 1.0 everywhere runs at full rate.
public struct MLGRUStalls: Hashable, Sendable, CustomStringConvertible {
  public var inputValid: Double
  public var outputReady: Double

  public init(inputValid: Double = 1, outputReady: Double = 1) {
    self.inputValid = inputValid
    self.outputReady = outputReady
  }

  public static let none = MLGRUStalls()
  public static let heavy = MLGRUStalls(inputValid: 0.6, outputReady: 0.5)

  public var description: String {
    self == .none ? "no stalls" : "stalls (in valid \(inputValid), out ready \(outputReady))"
  }
}

/// What the unit produced for a run, and when.
public struct MLGRUUnitRun: Sendable {
  /// One output vector per operation, every lane of every beat (padding lanes included).
  public var outputs: [[Int32]]
  /// `out_last_o` of every output beat, in order.
  public var lastFlags: [Bool]
  public var cycles: Int
  /// Input beats taken.
  public var beats: Int
  /// Cycle of the first input handshake and of the first output beat (nil if none).
  public var firstInputCycle: Int?
  public var firstOutputCycle: Int?
  /// `err_o` at the end of the run.
  public var error: Bool

  /// Cycles from the first input handshake to the first output beat.
  public var latency: Int? {
    guard let a = firstInputCycle, let b = firstOutputCycle else { return nil }
    return b - a
  }
}

/// A configuration generated, verilated (or taken from the cache) and loaded,
/// with its testbench, out of reset.
public struct MLGRUUnitSimulation {
  public let design: Design
  public let files: [(name: String, contents: String)]
  public let library: BuiltLibrary
  public let model: VerilatedModel
  public let bench: MLGRUUnitTestbench

  public init(config: MLGRUUnitConfig, cache: VerilatorBuildCache = VerilatorBuildCache(), traceFile: URL? = nil) throws {
    (design, files) = try MLGRUUnitGenerator.files(config)
    var options = VerilatorOptions()
    if traceFile != nil { options.trace = .vcd }
    let spec = VerilatorBuildSpec(
      topModule: design.top.name,
      sources: files.map { VerilatorBuildSpec.SourceFile(fileName: $0.name, text: $0.contents) },
      ports: SimPort.ports(of: design.top),
      verilatorFlags: options.verilatorFlags, compilerFlags: options.compilerFlags, trace: options.trace)
    library = try cache.library(for: spec)
    model = try VerilatedModel(library: library, traceFile: traceFile)
    bench = try MLGRUUnitTestbench(config: config, model: model)
    try bench.reset()
  }
}

/// Drives the Verilated MLGRU unit: one input stream of combined beats
/// (x, y, lb and the per-vector header), one output stream.
///
/// The source obeys the valid/ready rule (a presented beat stays until it is
/// taken) and drives random values on the header ports of every beat but a
/// vector's first and in the lanes past n, which the unit must ignore.
public final class MLGRUUnitTestbench {
  public let config: MLGRUUnitConfig
  let model: VerilatedModel
  let rstN, inValid, inReady, inOp, inLayer, inLen, inX, inY, inLb, inLast, outValid, outReady, outData, outLast, err: PortHandle

  public init(config: MLGRUUnitConfig, model: VerilatedModel) throws {
    self.config = config
    self.model = model
    rstN = try model.port("rst_ni")
    inValid = try model.port("in_valid_i")
    inReady = try model.port("in_ready_o")
    inOp = try model.port("in_op_i")
    inLayer = try model.port("in_layer_i")
    inLen = try model.port("in_len_i")
    inX = try model.port("in_x_i")
    inY = try model.port("in_y_i")
    inLb = try model.port("in_lb_i")
    inLast = try model.port("in_last_i")
    outValid = try model.port("out_valid_o")
    outReady = try model.port("out_ready_i")
    outData = try model.port("out_data_o")
    outLast = try model.port("out_last_o")
    err = try model.port("err_o")
  }

  /// Holds reset for two cycles with both streams idle, then releases it.
  public func reset() throws {
    try model.applyReset(rstN, idle: [inValid, outReady])
  }

  /// `err_o` now.
  public var errorFlag: Bool { model.get(err) == 1 }

  /// The input beats of a list of operations, packed once.
  struct Beats {
    var x: [UInt32] = [], y: [UInt32] = [], lb: [UInt32] = []
    var header: [(op: UInt64, layer: UInt64, length: UInt64)] = []
    var last: [Bool] = []
  }

  func pack(_ operations: [MLGRUUnitOperation], rng: inout SeededRandom) -> Beats {
    let lanes = config.lanes
    var beats = Beats()
    for operation in operations {
      let n = operation.elements(config)
      let count = operation.beats(config)
      for b in 0..<count {
        for j in 0..<lanes {
          let i = b * lanes + j
          // Lanes past n carry noise: the unit must not use it.
          beats.x.append(i < n ? UInt32(bitPattern: operation.x[i]) : UInt32(truncatingIfNeeded: rng.next()))
          beats.y.append(i < n ? UInt32(bitPattern: operation.y[i]) : UInt32(truncatingIfNeeded: rng.next()))
          beats.lb.append(i < n ? UInt32(bitPattern: operation.lb[i]) : UInt32(truncatingIfNeeded: rng.next()))
        }
        if b == 0 {
          beats.header.append((UInt64(operation.op.rawValue), UInt64(operation.layer), UInt64(operation.length)))
        } else {
          beats.header.append((rng.next(), rng.next(), rng.next()))  // ignored after the first beat
        }
        beats.last.append((b == count - 1) != operation.wrongLast)
      }
    }
    return beats
  }

  /// Streams `operations` back to back and collects every output beat.
  ///
  /// - Parameter abortAfterBeats: stop once this many input beats are taken
  ///   (to test reset in the middle of a vector); the run reports what had
  ///   arrived by then.
  public func run(
    _ operations: [MLGRUUnitOperation], stalls: MLGRUStalls = .none, seed: UInt64 = 1, abortAfterBeats: Int? = nil
  ) throws -> MLGRUUnitRun {
    var rng = SeededRandom(seed: seed)
    var noise = rng.fork(1)
    let beats = pack(operations, rng: &noise)
    let lanes = config.lanes
    let total = beats.last.count

    var data: [UInt32] = []
    data.reserveCapacity(total * lanes)
    var lastFlags: [Bool] = []
    var word = [UInt32](repeating: 0, count: lanes)
    var taken = 0
    var present = false
    var shown = -1
    var cycles = 0
    var firstInput: Int? = nil
    var firstOutput: Int? = nil
    let stopAt = abortAfterBeats ?? Int.max
    // Generous: a correct unit needs about one cycle per beat, plus latency and hazard waits.
    let cycleLimit = 200 + total * 80

    try beats.x.withUnsafeBufferPointer { xBuf in
      try beats.y.withUnsafeBufferPointer { yBuf in
        try beats.lb.withUnsafeBufferPointer { lbBuf in
          while lastFlags.count < total && taken < stopAt {
            if !present && taken < total { present = rng.chance(stalls.inputValid) }
            if present && shown != taken {
              model.set(inX, words: xBuf.baseAddress! + taken * lanes)
              model.set(inY, words: yBuf.baseAddress! + taken * lanes)
              model.set(inLb, words: lbBuf.baseAddress! + taken * lanes)
              let header = beats.header[taken]
              model.set(inOp, header.op)
              model.set(inLayer, header.layer)
              model.set(inLen, header.length)
              model.set(inLast, beats.last[taken] ? 1 : 0)
              shown = taken
            }
            let sinkReady = rng.chance(stalls.outputReady)
            model.set(inValid, present ? 1 : 0)
            model.set(outReady, sinkReady ? 1 : 0)
            try model.eval()
            let fire = present && model.get(inReady) == 1
            if sinkReady && model.get(outValid) == 1 {
              word.withUnsafeMutableBufferPointer { model.get(outData, into: $0.baseAddress!) }
              data += word
              lastFlags.append(model.get(outLast) == 1)
              if firstOutput == nil { firstOutput = cycles }
            }
            if fire && firstInput == nil { firstInput = cycles }
            try model.step(1)
            cycles += 1
            if fire {
              taken += 1
              present = false
            }
            if cycles > cycleLimit {
              throw TestbenchError(
                "no progress: \(lastFlags.count) of \(total) output beats after \(cycles) cycles (\(taken) input beats taken)")
            }
          }
        }
      }
    }
    model.set(inValid, 0)
    try model.eval()

    // Regroup the output beats into one vector per operation.
    var outputs: [[Int32]] = []
    var next = 0
    for operation in operations {
      let count = operation.beats(config) * lanes
      let end = min(next + count, data.count)
      outputs.append(data[min(next, end)..<end].map { Int32(bitPattern: $0) })
      next = end
    }
    return MLGRUUnitRun(
      outputs: outputs, lastFlags: lastFlags, cycles: cycles, beats: taken, firstInputCycle: firstInput,
      firstOutputCycle: firstOutput, error: errorFlag)
  }
}

/// Compares a run with the golden model, element by element.
public enum MLGRUUnitCheck {
  public struct Mismatch: Error, CustomStringConvertible {
    public let description: String
  }

  /// Applies `operations` to `reference` and throws at the first output
  /// element, padding lane or `out_last_o` flag that differs.
  public static func compare(
    _ run: MLGRUUnitRun, _ operations: [MLGRUUnitOperation], reference: inout MLGRUUnitReference, seed: UInt64
  ) throws {
    let config = reference.config
    let context = "seed \(seed), \(config)"
    guard run.outputs.count == operations.count else {
      throw Mismatch(description: "\(context): \(run.outputs.count) output vectors for \(operations.count) operations")
    }
    var beat = 0
    for (k, operation) in operations.enumerated() {
      let expected = try reference.apply(operation)
      let got = run.outputs[k]
      let what = "\(context): operation \(k) (\(operation.op), layer \(operation.layer), n \(operation.length))"
      let count = operation.beats(config)
      guard got.count == count * config.lanes else {
        throw Mismatch(description: "\(what): \(got.count / config.lanes) of \(count) output beats")
      }
      if let i = expected.indices.first(where: { expected[$0] != got[$0] }) {
        var detail = ""
        if operation.op == .recur || operation.op == .recurFresh {
          detail = " (yf \(operation.y[i]), yi \(operation.x[i]), lb \(operation.lb[i]))"
        } else if operation.op == .siluMul {
          detail = " (a \(operation.x[i]), b \(operation.y[i]))"
        }
        throw Mismatch(description: "\(what) element \(i): RTL \(got[i]), golden \(expected[i])\(detail)")
      }
      if let i = (expected.count..<got.count).first(where: { got[$0] != 0 }) {
        throw Mismatch(description: "\(what): padding lane \(i) is \(got[i]), expected 0")
      }
      for b in 0..<count where run.lastFlags[beat + b] != (b == count - 1) {
        throw Mismatch(description: "\(what): out_last_o is \(run.lastFlags[beat + b]) on beat \(b) of \(count)")
      }
      beat += count
    }
  }
}
