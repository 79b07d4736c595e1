import Foundation
import HWDSL
import HWGenerators
import HWSim
import HWSupport
import HWVerilator
import Testing

/// The DSL's assertions are live in Verilator builds (`--assert`): a design
/// that breaks one stops, and the stop is a Swift error naming the assertion.
@Suite("assertions: a broken protocol stops the Verilator model with the assertion's name")
struct AssertionTests {
  static let cache = VerilatorBuildCache(
    root: ScratchDirectory.make("hwgen-assertion-tests"))

  /// The accelerator's stream FIFO, 2 x 8 bits (3 beats with the output register).
  static let fifo = Result { () throws -> BuiltLibrary in
    let design = try StreamFIFOGenerator.generate(StreamFIFOConfig(width: 8, depth: 2))
    return try cache.library(for: VerilatorBuildSpec(design: design, sources: design.files()))
  }

  struct Ports {
    let model: VerilatedModel
    let inValid, inReady, inData, outReady: PortHandle

    init() throws {
      model = try VerilatedModel(library: try AssertionTests.fifo.get())
      inValid = try model.port("in_valid_i")
      inReady = try model.port("in_ready_o")
      inData = try model.port("in_data_i")
      outReady = try model.port("out_ready_i")
      try model.applyReset(try model.port("rst_ni"), idle: [inValid, outReady, try model.port("hold_i")])
    }

    /// Offers beats with nothing taken until the FIFO pushes back, then one
    /// more edge with the next beat offered and not taken: from there on the
    /// producer must hold it.
    func fill() throws {
      model.set(inValid, 1)
      for beat in 0..<8 {
        model.set(inData, UInt64(0x10 + beat))
        try model.step()
        if model.get(inReady) == 0 {
          model.set(inData, 0x40)
          try model.step()
          return
        }
      }
      Issue.record("the FIFO never pushed back")
    }
  }

  @Test("a producer that holds its beat while not ready runs clean")
  func protocolKept() throws {
    let p = try Ports()
    try p.fill()
    // Full: the same beat stays offered, then the consumer drains everything.
    try p.model.step(5)
    p.model.set(p.outReady, 1)
    try p.model.step(10)
    p.model.set(p.inValid, 0)
    try p.model.step(5)
    p.model.close()
  }

  @Test("changing the payload while valid and not ready fails InStable_A")
  func payloadChangedWhileStalled() throws {
    let p = try Ports()
    try p.fill()
    p.model.set(p.inData, 0xEE)
    let error = #expect(throws: SimulationError.self) { try p.model.step(2) }
    guard case .fatal(let message) = error else {
      Issue.record("expected a fatal stop, got \(String(describing: error))")
      return
    }
    #expect(message.contains("InStable_A"), "\(message)")
    #expect(message.contains("stream_fifo.sv"), "\(message)")
    p.model.close()
  }

  @Test("dropping valid while not ready fails InStable_A too")
  func validDroppedWhileStalled() throws {
    let p = try Ports()
    try p.fill()
    p.model.set(p.inValid, 0)
    let error = #expect(throws: SimulationError.self) { try p.model.step(2) }
    #expect(error?.description.contains("InStable_A") == true, "\(String(describing: error))")
    p.model.close()
  }
}
