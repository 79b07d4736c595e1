import Foundation
import HWGolden
import HWSim
import HWSpec
import HWSupport
import HWVerilator
import Testing

/// Builds each configuration's Verilated library once per test process;
/// every test then loads its own independent model instance from it.
enum CoreModels {
  private static let lock = NSLock()

  static func simulation(_ config: TernaryCoreConfig) throws -> TernaryCoreSimulation {
    // Serialize the first build of a config so parallel tests do not race to build it twice.
    lock.lock()
    defer { lock.unlock() }
    return try TernaryCoreSimulation(config: config)
  }
}

/// The configurations every core test runs on: the default, odd shapes that
/// make every size a non-multiple, the degenerate single-weight core, and the
/// adder-tree lane datapath.
let coreConfigs = [
  TernaryCoreConfig(lanes: 16, laneWidth: 64),
  TernaryCoreConfig(lanes: 3, laneWidth: 5),
  TernaryCoreConfig(lanes: 1, laneWidth: 1),
  TernaryCoreConfig(lanes: 4, laneWidth: 7, reduction: .adderTree),
]

/// Each case runs against the golden model and the Verilated RTL; directed
/// corners also against their analytic result, so the golden model is checked too.
@Suite struct TernaryCoreTests {
  func randomJobs(_ count: Int, maxRows: Int, maxCols: Int, rng: inout SeededRandom) -> [TernaryCoreJob] {
    (0..<count).map { _ in
      let rows = 1 + Int(rng.next() % UInt64(maxRows))
      let cols = 1 + Int(rng.next() % UInt64(maxCols))
      return TernaryCoreJob(
        matrix: TernaryWorkload.randomMatrix(rows: rows, cols: cols, using: &rng),
        activations: TernaryWorkload.randomActivations(cols, using: &rng))
    }
  }

  @Test(arguments: coreConfigs)
  func randomShapesMatchGolden(config: TernaryCoreConfig) throws {
    let sim = try CoreModels.simulation(config)
    for seed: UInt64 in [11, 12, 13] {
      var rng = SeededRandom(seed: seed)
      let jobs = randomJobs(6, maxRows: 3 * config.lanes + 2, maxCols: 4 * config.laneWidth + 3, rng: &rng)
      let run = try sim.bench.run(jobs, stalls: .none, seed: seed)
      try TernaryCoreCheck.compare(run, jobs, config: config, seed: seed)
    }
  }

  @Test(arguments: coreConfigs)
  func randomStallsOnEveryStream(config: TernaryCoreConfig) throws {
    let sim = try CoreModels.simulation(config)
    for seed: UInt64 in [21, 22, 23] {
      var rng = SeededRandom(seed: seed)
      let jobs = randomJobs(5, maxRows: 2 * config.lanes + 3, maxCols: 3 * config.laneWidth + 1, rng: &rng)
      let run = try sim.bench.run(jobs, stalls: .heavy, seed: seed)
      try TernaryCoreCheck.compare(run, jobs, config: config, seed: seed)
    }
  }

  @Test(arguments: coreConfigs)
  func directedCornersAtFullLength(config: TernaryCoreConfig) throws {
    let sim = try CoreModels.simulation(config)
    let n = config.maxInputs
    let rows = config.lanes + 1
    let minus128 = [Int8](repeating: -128, count: n)
    let cases: [(Int8, Int64)] = [(1, -128 * Int64(n)), (-1, 128 * Int64(n)), (0, 0)]
    let jobs = cases.map { TernaryCoreJob(matrix: TernaryMatrix(rows: rows, cols: n, repeating: $0.0), activations: minus128) }
    let run = try sim.bench.run(jobs)
    let golden = try TernaryCoreCheck.compare(run, jobs, config: config, seed: 0)
    for (i, c) in cases.enumerated() {
      #expect(golden[i] == [Int64](repeating: c.1, count: rows), "golden model, weight \(c.0)")
      #expect(run.outputs[i] == [Int64](repeating: c.1, count: rows), "RTL, weight \(c.0)")
    }
    // Mixed extremes: +127 against -1 and -128 against +1 in one row.
    var acts = [Int8](repeating: 127, count: 7)
    acts[3] = -128
    let mixed = TernaryCoreJob(matrix: TernaryMatrix(rows: 1, cols: 7, values: [-1, -1, -1, 1, -1, -1, -1]), activations: acts)
    let out = try sim.bench.run([mixed])
    #expect(out.outputs == [[-127 * 6 - 128]])
  }

  @Test func backToBackVectorsStreamOneBeatPerCycle() throws {
    let config = coreConfigs[0]
    let sim = try CoreModels.simulation(config)
    var rng = SeededRandom(seed: 31)
    let jobs = (0..<8).map { _ in
      TernaryCoreJob(
        matrix: TernaryWorkload.randomMatrix(rows: 64, cols: 640, using: &rng),
        activations: TernaryWorkload.randomActivations(640, using: &rng))
    }
    let run = try sim.bench.run(jobs)
    try TernaryCoreCheck.compare(run, jobs, config: config, seed: 31)
    // 8 jobs x 4 row groups x 10 beats; the pipeline adds three cycles of latency in total.
    #expect(run.beats == 320)
    #expect(run.cycles <= run.beats + 3, "took \(run.cycles) cycles for \(run.beats) beats")
  }

  @Test(arguments: coreConfigs)
  func resetInTheMiddleOfAVector(config: TernaryCoreConfig) throws {
    let sim = try CoreModels.simulation(config)
    var rng = SeededRandom(seed: 41)
    let jobs = randomJobs(3, maxRows: 2 * config.lanes, maxCols: 5 * config.laneWidth, rng: &rng)
    let big = TernaryCoreJob(
      matrix: TernaryMatrix(rows: config.lanes, cols: 4 * config.laneWidth, repeating: 1),
      activations: [Int8](repeating: 100, count: 4 * config.laneWidth))
    // Abandon a vector halfway (accumulators hold a partial sum), reset, then run.
    _ = try sim.bench.run([big], abortAfterBeats: 2)
    try sim.bench.reset()
    let run = try sim.bench.run(jobs, stalls: .heavy, seed: 41)
    try TernaryCoreCheck.compare(run, jobs, config: config, seed: 41)
  }
}
