import Foundation
import HWGenerators
import HWGolden
import HWSim
import HWSpec
import HWSupport
import Testing

/// The accelerator's own weight DMA against a memory that misbehaves: the
/// AXI4 ports stall and gap at random and stay bit-exact; an error response or
/// a port that never answers ends the run with one error naming the port and
/// address, never a hang.
@Suite("Accelerator memory ports: AXI4 backpressure, error responses and silent ports")
struct AcceleratorMemoryTests {
  static func simulation(lanes: Int, seed: UInt64, faults: MemoryFaults) throws -> AcceleratorSimulation {
    try AcceleratorModels.locked {
      let profile = try DeviceProfile.named("d5005")
      return try AcceleratorSimulation(
        weights: ModelWeights.synthetic(.tiny, seed: seed), config: AcceleratorConfig(lanes: lanes), profile: profile,
        clockMHz: profile.defaultClockMHz, faults: faults)
    }
  }

  /// The port address of layer 0's first matrix (f), where the DMA starts.
  static func firstMatrixAddress(_ sim: AcceleratorSimulation) -> Int {
    sim.program.segments.first { if case .matrix = $0.data { return true } else { return false } }!.address
  }

  @Test("random ARREADY backpressure and RVALID gaps on every port: every token bit-exact, the same bytes, never faster",
        arguments: [(UInt64(1), 16), (UInt64(2), 8)])
  func stallsStayBitExact(seed: UInt64, lanes: Int) throws {
    var faults = MemoryFaults()
    faults.seed = seed
    faults.arStallPercent = 40
    faults.rGapPercent = 30
    let stalled = try Self.simulation(lanes: lanes, seed: seed, faults: faults)
    let clean = try Self.simulation(lanes: lanes, seed: seed, faults: .none)
    let prompt = [Int(seed) * 11, 5]
    let a = try stalled.run(prompt: prompt, tokens: 3)
    let b = try clean.run(prompt: prompt, tokens: 3)
    let context = "seed \(seed), lanes \(lanes)"
    #expect(a.allSatisfy { $0.mismatch == nil }, "\(context): \(a.compactMap(\.mismatch).first.map(\.description) ?? "")")
    #expect(a.map(\.next) == b.map(\.next), "\(context)")
    #expect(a.reduce(0) { $0 + $1.bytes } == b.reduce(0) { $0 + $1.bytes }, "\(context)")
    // The faults held back addresses the RTL offered and beats that had arrived.
    #expect(stalled.heldAddresses > 100 && stalled.heldBeats > 100, "\(context): \(stalled.heldAddresses) AR, \(stalled.heldBeats) R held")
    #expect(clean.heldAddresses == 0 && clean.heldBeats == 0)
    let cycles = { (runs: [TokenRun]) in runs.reduce(0) { $0 + $1.measured.total } }
    #expect(cycles(a) >= cycles(b), "\(context): \(cycles(a)) cycles stalled, \(cycles(b)) clean")
  }

  /// The vector port's address of layer 0's attention-norm gamma, the first vector the program loads.
  static func firstVectorAddress(_ sim: AcceleratorSimulation) -> Int {
    sim.program.segments.first { $0.data == .vector(.attnNorm(layer: 0)) }!.busAddress
  }

  @Test("an error response on a weight or vector read ends the run naming the port, the address and the response",
        arguments: [(2, AXIReadBundle.slaveError, "SLVERR"), (0, AXIReadBundle.decodeError, "DECERR"),
                    (4, AXIReadBundle.slaveError, "SLVERR")])
  func errorResponse(port: Int, response: Int, name: String) throws {
    var faults = MemoryFaults()
    faults.errorPort = port
    faults.errorResponse = response
    let probe = try Self.simulation(lanes: 16, seed: 1, faults: .none)
    // Port 4 of a 16-lane accelerator is its vector port (four weight ports).
    let vector = port == probe.config.memoryPorts
    faults.errorAddress = vector ? Self.firstVectorAddress(probe) + 64 : Self.firstMatrixAddress(probe) + 5 * 64
    faults.errorBytes = 64
    let sim = try Self.simulation(lanes: 16, seed: 1, faults: faults)
    let portName = vector ? "vector" : "\(port)"
    let expected = "accelerator: memory error on port \(portName) at address 0x\(String(faults.errorAddress, radix: 16)): \(name)"
    do {
      _ = try sim.run(prompt: [1], tokens: 2)
      Issue.record("the run went through a \(name)")
    } catch {
      #expect("\(error)".hasPrefix(expected), "\(error)")
    }
  }

  /// The program is the first thing the accelerator reads (CTRL.LOAD, through the vector
  /// DMA): an error response inside its region, or a vector port that never answers, ends
  /// the load with the port, the address and the response, before any token runs.
  @Test("an error response or a silent port while the DMA reads the program ends the load in one error line",
        arguments: [AXIReadBundle.slaveError, AXIReadBundle.decodeError, -1])
  func programLoadFault(response: Int) throws {
    let probe = try Self.simulation(lanes: 16, seed: 1, faults: .none)
    var faults = MemoryFaults()
    let vectorPort = probe.config.memoryPorts
    let program = probe.image.programAddress
    let expected: String
    if response < 0 {
      faults.silentPort = vectorPort
      expected = "accelerator: memory error on port vector at address 0x\(String(program, radix: 16)): timeout (the program load)"
    } else {
      // The second element beat of the program (instructions 4 to 7 at 16 lanes).
      faults.errorPort = vectorPort
      faults.errorResponse = response
      faults.errorAddress = program + 64
      faults.errorBytes = 64
      let name = response == AXIReadBundle.slaveError ? "SLVERR" : "DECERR"
      expected = "accelerator: memory error on port vector at address 0x\(String(program + 64, radix: 16)): \(name) response (the program load)"
    }
    let sim = try Self.simulation(lanes: 16, seed: 1, faults: faults)
    do {
      _ = try sim.run(prompt: [1], tokens: 2)
      Issue.record("the run went through a fault in the program's region")
    } catch {
      #expect("\(error)" == expected)
    }
  }

  @Test("a port that never raises ARREADY ends in the read engine's timeout, not a hang")
  func silentPort() throws {
    var faults = MemoryFaults()
    faults.silentPort = 3
    let sim = try Self.simulation(lanes: 16, seed: 1, faults: faults)
    let start = Self.firstMatrixAddress(sim)
    do {
      _ = try sim.run(prompt: [1], tokens: 2)
      Issue.record("the run finished without port 3")
    } catch {
      #expect("\(error)".hasPrefix("accelerator: memory error on port 3 at address 0x\(String(start, radix: 16)): timeout"), "\(error)")
    }
  }
}
