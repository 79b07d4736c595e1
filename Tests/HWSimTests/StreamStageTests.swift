import Foundation
import HWDSL
import HWSupport
import HWTools
import HWVerilator
import Testing

/// `ModuleBuilder.stage` in Verilator: a stream of 8-bit beats with a `last`
/// flag through one registered skid buffer, driven by a producer that keeps
/// the valid/ready rule and a consumer that pushes back at random.
@Suite("stream stage: a registered skid buffer keeps every beat, in order, at full rate")
struct StreamStageTests {
  static let fields = [Stream.Field("data", .uint(8)), Stream.Field("last", .bit, comment: "last beat of a packet")]

  /// `in` -> stage -> `out`, with the valid/ready rule asserted on both sides.
  static func module() throws -> Module {
    let m = ModuleBuilder("stream_stage_demo", comment: ["One registered stream stage between two ports."])
    _ = m.clock()
    _ = m.reset()
    let input = m.streamInput("in", fields)
    let staged = m.stage(input, "in_stage")
    let output = m.streamOutput("out", fields)
    m.connect(staged, to: output)
    m.assertValidReady("InValidReady", input)
    m.assertValidReady("OutValidReady", output)
    return try m.finish()
  }

  static let cache = VerilatorBuildCache(
    root: ScratchDirectory.make("hwgen-stream-stage-tests"))

  static let library = Result { () throws -> BuiltLibrary in
    let design = try Design(top: try module())
    return try cache.library(for: VerilatorBuildSpec(design: design, sources: design.files()))
  }

  /// What went in and came out, and in how many cycles.
  struct Run {
    var sent: [UInt64] = []
    var received: [UInt64] = []
    var cycles = 0
  }

  /// Offers `beats` beats (payload = data | last << 8), each cycle valid with
  /// probability `offer` and ready with probability `accept`, then drains.
  static func run(beats: Int, offer: Double, accept: Double, seed: UInt64) throws -> Run {
    let model = try VerilatedModel(library: try library.get())
    defer { model.close() }
    let inValid = try model.port("in_valid_i"), inReady = try model.port("in_ready_o")
    let inData = try model.port("in_data_i"), inLast = try model.port("in_last_i")
    let outValid = try model.port("out_valid_o"), outReady = try model.port("out_ready_i")
    let outData = try model.port("out_data_o"), outLast = try model.port("out_last_o")
    try model.applyReset(try model.port("rst_ni"), idle: [inValid, outReady])
    var random = SeededRandom(seed: seed)
    var run = Run()
    var pending: UInt64? = nil
    while run.received.count < beats && run.cycles < 100 * beats {
      if pending == nil && run.sent.count < beats && Double.random(in: 0..<1, using: &random) < offer {
        pending = random.next() & 0x1FF
      }
      model.set(inValid, pending == nil ? 0 : 1)
      model.set(inData, (pending ?? 0) & 0xFF)
      model.set(inLast, (pending ?? 0) >> 8)
      model.set(outReady, Double.random(in: 0..<1, using: &random) < accept ? 1 : 0)
      try model.eval()
      if let beat = pending, model.get(inReady) == 1 {
        run.sent.append(beat)
        pending = nil
      }
      if model.get(outValid) == 1 && model.get(outReady) == 1 {
        run.received.append(model.get(outData) | model.get(outLast) << 8)
      }
      try model.step()
      run.cycles += 1
    }
    return run
  }

  @Test(arguments: [(0.5, 0.5), (0.9, 0.3), (0.3, 0.9), (1.0, 0.7)])
  func everyBeatOutIsEveryBeatInInOrder(offer: Double, accept: Double) throws {
    let seed = UInt64.random(in: 0...UInt64.max)
    let run = try Self.run(beats: 400, offer: offer, accept: accept, seed: seed)
    #expect(run.sent.count == 400, "seed \(seed)")
    #expect(run.received == run.sent, "seed \(seed): offer \(offer), accept \(accept)")
  }

  @Test func withoutBackpressureOneBeatPassesEveryCycle() throws {
    let run = try Self.run(beats: 200, offer: 1, accept: 1, seed: 1)
    #expect(run.received == run.sent)
    // One cycle of latency: 200 beats in 201 cycles.
    #expect(run.cycles == 201)
  }

  @Test func readyIsRegisteredNoPathCrossesTheStage() throws {
    let paths = try Self.module().combinationalPaths
    #expect(paths["in_ready_o"] == nil || paths["in_ready_o"] == [])
    #expect(paths.values.allSatisfy { $0.isEmpty }, "\(paths)")
  }

  @Test func theStagePassesTheLintGates() throws {
    let design = try Design(top: try Self.module())
    let files = RTLGates.Files(top: design.top.name, sources: design.files())
    let verilator = try RTLGates.verilatorLint(files)
    #expect(verilator == [], "\(verilator.joined(separator: "\n"))")
    let icarus = try RTLGates.iverilogCompile(files)
    #expect(icarus == [], "\(icarus.joined(separator: "\n"))")
    let report = try RTLGates.yosysSynthesize(files)
    #expect(report.latches == 0)
    if veribleInstalled {
      let findings = try RTLGates.veribleLint(files)
      #expect(findings == [], "\(findings.joined(separator: "\n"))")
    }
    if slangInstalled {
      let findings = try RTLGates.slangLint(files)
      #expect(findings == [], "\(findings.joined(separator: "\n"))")
    }
  }
}
