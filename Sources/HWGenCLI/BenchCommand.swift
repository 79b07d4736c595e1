import ArgumentParser
import Foundation
import HWGolden
import HWReport
import HWSim
import HWSpec
import HWSupport
import HWVerilator

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Benchmarks (ratios measured in one run, not timed tests).",
    subcommands: [BenchCore.self, BenchGolden.self, BenchAccelerator.self])
}

/// Verilator build time and simulation speed of the ternary core, for the
/// default build and the variants that could move it.
struct BenchCore: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "core",
    abstract: "Verilate+compile time (cold and cached) and simulated weights/s of the ternary core, per build variant.")

  @OptionGroup var core: CoreOptions

  @Option(help: "Ternary weights streamed per variant (millions).") var mweights: Int = 256
  @Option(help: "Comma-separated variants to run: \(BenchVariant.all.map(\.name).joined(separator: ","))")
  var variants: String = BenchVariant.all.map(\.name).joined(separator: ",")
  @Option(help: "Workload seed.") var seed: UInt64 = 1

  func validate() throws {
    guard (1...100_000).contains(mweights) else { throw ValidationError("mweights must be between 1 and 100000, got \(mweights)") }
    for name in variants.split(separator: ",") where BenchVariant.named(String(name)) == nil {
      throw ValidationError("unknown variant '\(name)'; known: \(BenchVariant.all.map(\.name).joined(separator: ", "))")
    }
  }

  func run() throws {
    let base = try core.config()
    let chosen = variants.split(separator: ",").compactMap { BenchVariant.named(String($0)) }
    let workload = Self.workload(mweights: mweights, seed: seed)
    print("hwgen bench core: \(base.lanes) lanes x \(base.laneWidth) weights/cycle; \(workload.summary) per variant, seed \(seed)")
    print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; cold builds use an empty cache, so they include the Verilator runtime;")
    print("simulation speed is the median of three runs, every output checked against the golden model")
    var rows_: [[String]] = []
    for variant in chosen {
      var config = base
      config.reduction = variant.reduction
      let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hwgen-bench-\(getpid())-\(variant.name)")
      defer { try? FileManager.default.removeItem(at: scratch) }
      let cache = VerilatorBuildCache(root: scratch)
      let cold = Stopwatch()
      let sim = try TernaryCoreSimulation(config: config, cache: cache, options: variant.options)
      let coldSeconds = cold.seconds
      let warm = Stopwatch()
      let again = try cache.library(for: VerilatorBuildSpec(bundle: sim.bundle, options: variant.options))
      let warmSeconds = warm.seconds
      guard again.fromCache else { throw ValidationError("second build of \(variant.name) was not served from the cache") }
      let speed = try Self.speed(sim, workload.jobs, config: config, seed: seed)
      rows_.append([
        variant.name, Format.seconds(coldSeconds), Format.seconds(warmSeconds),
        Format.si(Double(speed.cycles) / speed.wall, "cyc/s"), Format.si(speed.weightsPerSecond, "w/s"),
        Format.significant(speed.weightsPerSecond / 1e9, 3),
      ])
      print("  \(variant.name): done (\(variant.summary))")
    }
    print(Format.table(["variant", "cold build", "cached", "simulated", "weights", "G weights/s"], rows_))
  }
}

extension BenchCore {
  /// The benchmark's matrix-vector jobs: one matrix as wide as the largest projection
  /// input, with fresh activations, repeated to about `mweights` million weights.
  static func workload(mweights: Int, seed: UInt64) -> (jobs: [TernaryCoreJob], summary: String) {
    let cols = 4096
    let rows = 1024
    let vectors = max(1, mweights * 1_000_000 / (rows * cols))
    var rng = SeededRandom(seed: seed)
    let matrix = TernaryWorkload.randomMatrix(rows: rows, cols: cols, using: &rng)
    let jobs = (0..<vectors).map { _ in
      TernaryCoreJob(matrix: matrix, activations: TernaryWorkload.randomActivations(cols, using: &rng))
    }
    return (jobs, "\(vectors) x (\(rows) x \(cols)) weights")
  }

  /// The bare core's simulation speed on `jobs`: the median wall time of three runs, each
  /// checked against the golden model (one run is at the mercy of the machine).
  static func speed(_ sim: TernaryCoreSimulation, _ jobs: [TernaryCoreJob], config: TernaryCoreConfig, seed: UInt64)
    throws -> (wall: Double, cycles: Int, weightsPerSecond: Double)
  {
    let timed = try runs(sim, jobs, config: config, seed: seed, count: 3)
    let wall = timed.walls.sorted()[1]
    return (wall, timed.cycles, Double(timed.weights) / wall)
  }

  /// `count` timed runs of `jobs` on the bare core, each checked against the golden model.
  static func runs(_ sim: TernaryCoreSimulation, _ jobs: [TernaryCoreJob], config: TernaryCoreConfig, seed: UInt64,
                   count: Int) throws -> (walls: [Double], cycles: Int, weights: Int)
  {
    let streams = TernaryCoreStreams(jobs, layout: sim.bench.layout)
    var walls: [Double] = []
    var cycles = 0
    for _ in 0..<count {
      let clock = Stopwatch()
      let run = try sim.bench.run(streams, seed: seed)
      walls.append(clock.seconds)
      try TernaryCoreCheck.compare(run, jobs, config: config, seed: seed)
      cycles = run.cycles
    }
    return (walls, cycles, streams.weights)
  }
}

/// A way to build the core for simulation.
struct BenchVariant {
  let name: String
  let summary: String
  let reduction: TernaryCoreConfig.Reduction
  let options: VerilatorOptions

  static func make(_ name: String, _ summary: String, _ reduction: TernaryCoreConfig.Reduction = .popcount,
                   _ tune: (inout VerilatorOptions) -> Void = { _ in }) -> BenchVariant {
    var options = VerilatorOptions()
    tune(&options)
    return BenchVariant(name: name, summary: summary, reduction: reduction, options: options)
  }

  static let all: [BenchVariant] = [
    make("default", "popcount lanes, verilator \(VerilatorBuildSpec.defaultVerilatorFlags.joined(separator: " ")), g++ \(VerilatorBuildSpec.defaultCompilerFlags.joined(separator: " "))"),
    make("adder-tree", "adder-tree lanes, default flags", .adderTree),
    make("no-opt", "verilator without -O3 and --x-assign/--x-initial fast") { $0.verilatorFlags = ["--assert", "-Wno-fatal"] },
    make("gcc-O2", "g++ -O2") { $0.compilerFlags = ["-O2"] },
    make("gcc-O3-native", "g++ -O3 -march=native (not portable: the cache is per machine)") { $0.compilerFlags = ["-O3", "-march=native"] },
    make("threads-2", "verilator --threads 2") { $0.threads = 2 },
  ]

  static func named(_ name: String) -> BenchVariant? { all.first { $0.name == name } }
}
