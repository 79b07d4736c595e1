import ArgumentParser
import Foundation
import HWGolden
import HWReport
import HWSim
import HWSpec
import HWSupport
import HWVerilator

struct Core: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run the ternary core on a seeded workload in Verilator and check every output against the golden model.")

  @OptionGroup var core: CoreOptions

  @Option(help: "Rows of each ternary matrix.") var rows: Int = 1000
  @Option(help: "Columns of each ternary matrix (the input vector length).") var cols: Int = 2100
  @Option(help: "Matrix-vector products streamed back to back.") var vectors: Int = 4
  @Option(help: "Seed of the workload and of the stream stalls.") var seed: UInt64 = 1
  @Flag(help: "Randomly stall all three streams.") var stalls = false
  @Option(help: "Write a waveform of the run to this .vcd file.") var trace: String?

  func validate() throws {
    guard (1...65536).contains(rows) else { throw ValidationError("rows must be between 1 and 65536, got \(rows)") }
    guard (1...TernaryCoreConfig.defaultMaxInputs).contains(cols) else {
      throw ValidationError("cols must be between 1 and \(TernaryCoreConfig.defaultMaxInputs) (the accumulators' range), got \(cols)")
    }
    guard (1...1024).contains(vectors) else { throw ValidationError("vectors must be between 1 and 1024, got \(vectors)") }
  }

  func run() throws {
    let config = try core.config()
    print("hwgen core: \(config)")
    let build = Stopwatch()
    var options = VerilatorOptions()
    options.trace = trace == nil ? nil : .vcd
    let sim = try TernaryCoreSimulation(config: config, options: options, traceFile: trace.map { URL(fileURLWithPath: $0) })
    print("verilator: \(sim.library.fromCache ? "cached model loaded" : "model built") in \(Format.seconds(build.seconds))")

    var rng = SeededRandom(seed: seed)
    let jobs = (0..<vectors).map { _ in
      TernaryCoreJob(
        matrix: TernaryWorkload.randomMatrix(rows: rows, cols: cols, using: &rng),
        activations: TernaryWorkload.randomActivations(cols, using: &rng))
    }
    let weights = Double(rows * cols * vectors)
    print("workload: \(vectors) x (\(rows) x \(cols)) ternary weights, seed \(seed), \(stalls ? StreamStalls.heavy.description : "no stalls")")
    let streams = TernaryCoreStreams(jobs, layout: sim.bench.layout)
    let clock = Stopwatch()
    let run = try sim.bench.run(streams, stalls: stalls ? .heavy : .none, seed: seed)
    let wall = clock.seconds
    try TernaryCoreCheck.compare(run, jobs, config: config, seed: seed)
    print("check: all \(rows * vectors) outputs equal the golden model, bit for bit")
    print("cycles: \(run.cycles) for \(run.beats) beats (\(Format.percent(Double(run.beats) / Double(run.cycles))) of cycles take a beat)")
    print("simulation: \(Format.si(Double(run.cycles) / wall, "cycles/s")), \(Format.si(weights / wall, "weights/s")) (\(Format.seconds(wall)) wall)")
    if let trace { print("waveform: \(trace)") }
  }
}
