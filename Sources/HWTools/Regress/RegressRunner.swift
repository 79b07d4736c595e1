import Foundation
import HWGenerators
import HWGolden
import HWSim
import HWSpec
import HWSupport
import HWVerilator

/// The simulators a case can run on.
public enum RegressSimulator: String, CaseIterable, Sendable, Hashable {
  case verilator
  case iverilog
}

/// One cell of the matrix: a target, a seed, a simulator.
public struct RegressCase: Hashable, Sendable {
  public let target: RegressTarget
  public let seed: UInt64
  public let simulator: RegressSimulator

  public init(target: RegressTarget, seed: UInt64, simulator: RegressSimulator) {
    self.target = target
    self.seed = seed
    self.simulator = simulator
  }

  /// The one-line command that runs exactly this case again.
  public var command: String {
    "hwgen regress --configs \(target.spec) --seeds 1 --seed-base \(seed) --simulator \(simulator.rawValue)"
  }

  /// Every target x seed x simulator, target-major, in the order given.
  public static func matrix(targets: [RegressTarget], seeds: [UInt64], simulators: [RegressSimulator]) -> [RegressCase] {
    targets.flatMap { target in
      simulators.flatMap { simulator in seeds.map { RegressCase(target: target, seed: $0, simulator: simulator) } }
    }
  }
}

/// How one case ended.
public struct RegressOutcome: Sendable {
  public enum Status: Sendable, Equatable {
    case passed
    case failed(String)
    case skipped(String)
  }

  public let regressCase: RegressCase
  public let status: Status
  /// Clock cycles the run took (0 when it did not run).
  public let cycles: Int
  /// Output elements compared with the golden model.
  public let checked: Int
  /// Wall time; reported apart from everything else, which is deterministic.
  public let seconds: Double

  public var passed: Bool { status == .passed }
  public var failed: Bool { if case .failed = status { return true } else { return false } }
  public var skipped: Bool { if case .skipped = status { return true } else { return false } }
}

/// Runs regression cases: each builds its seeded workload, streams it through
/// the RTL on one simulator, and compares every output with the golden model.
///
/// Verilated libraries come from the build cache (one build per target, shared
/// by every seed); each case loads its own model instance, so cases run
/// concurrently. Icarus cases compile and run in private temporary directories.
public final class RegressRunner: @unchecked Sendable {
  public let cache: VerilatorBuildCache
  /// When set, each failing Icarus case's directory (bench, memory files,
  /// logs) is kept here, under the case's name.
  public let keepFailures: URL?

  private final class BuildSlot: @unchecked Sendable {
    let lock = NSLock()
    var bundle: Result<RTLBundle, Error>?
    var library: Result<BuiltLibrary, Error>?
  }

  private let lock = NSLock()
  private var slots: [RegressTarget: BuildSlot] = [:]

  public init(cache: VerilatorBuildCache = VerilatorBuildCache(), keepFailures: URL? = nil) {
    self.cache = cache
    self.keepFailures = keepFailures
  }

  /// Runs `cases` on `jobs` threads; `progress` hears each outcome as it
  /// finishes (in completion order). The outcomes come back in `cases` order.
  public func run(_ cases: [RegressCase], jobs: Int = 1, progress: @Sendable (RegressOutcome) -> Void = { _ in }) -> [RegressOutcome] {
    WorkSlots<RegressOutcome>.map(cases.count, jobs: jobs, done: { progress($1) }) { run(cases[$0]) }
  }

  /// Runs one case.
  public func run(_ regressCase: RegressCase) -> RegressOutcome {
    let clock = DispatchTime.now().uptimeNanoseconds
    func outcome(_ status: RegressOutcome.Status, cycles: Int = 0, checked: Int = 0) -> RegressOutcome {
      RegressOutcome(
        regressCase: regressCase, status: status, cycles: cycles, checked: checked,
        seconds: Double(DispatchTime.now().uptimeNanoseconds - clock) / 1e9)
    }
    if regressCase.simulator == .iverilog && !regressCase.target.runsUnderIcarus {
      if case .ternaryCore(let config) = regressCase.target {
        return outcome(.skipped("Icarus runs cores of up to \(IcarusSimulation.maxWeightsPerCycle) weights per cycle; this one has \(config.weightsPerCycle)"))
      }
      return outcome(.skipped("the \(regressCase.target.unit) has no Icarus bench yet; Verilator runs it"))
    }
    let seed = regressCase.seed
    switch regressCase.target {
    case .ternaryCore(let config):
      let workload = RegressWorkload(config: config, seed: regressCase.seed)
      do {
        let (cycles, problem) = try runCore(config, workload: workload, regressCase: regressCase)
        if let problem { return outcome(.failed(problem), cycles: cycles) }
        return outcome(.passed, cycles: cycles, checked: workload.outputs)
      } catch {
        return outcome(.failed("\(error)"))
      }
    case .mlgru(let config):
      let workload = MLGRUWorkload(config: config, seed: regressCase.seed)
      do {
        let sim = try mlgruSimulation(regressCase.target, config)
        defer { sim.model.close() }
        let run = try sim.bench.run(workload.operations, stalls: workload.stalls, seed: regressCase.seed)
        var reference = MLGRUUnitReference(config: config)
        do {
          try MLGRUUnitCheck.compare(run, workload.operations, reference: &reference, seed: regressCase.seed)
        } catch {
          return outcome(.failed("\(error)"), cycles: run.cycles)
        }
        if run.error {
          return outcome(.failed("seed \(regressCase.seed), \(config): err_o rose on a well-formed stream"), cycles: run.cycles)
        }
        return outcome(.passed, cycles: run.cycles, checked: workload.outputs)
      } catch {
        return outcome(.failed("\(error)"))
      }
    case .norm(let config):
      let workload = NormWorkload(config: config, seed: seed)
      do {
        let sim = try serialized(regressCase.target) { try NormUnitSimulation(config: config, cache: cache) }
        defer { sim.model.close() }
        let run = try sim.bench.run(workload.jobs, stalls: workload.stalls, seed: seed, noisyPadding: true)
        do {
          try NormUnitCheck.compare(run, workload.jobs, config: config, seed: seed)
        } catch {
          return outcome(.failed("\(error)"), cycles: run.cycles)
        }
        return outcome(.passed, cycles: run.cycles, checked: workload.outputs)
      } catch {
        return outcome(.failed("\(error)"))
      }
    case .rescale(let config):
      let workload = RescaleWorkload(config: config, seed: seed)
      do {
        let sim = try serialized(regressCase.target) { try RescaleUnitSimulation(config: config, cache: cache) }
        defer { sim.model.close() }
        let run = try sim.bench.run(
          workload.jobs, inputValid: workload.inputValid, outputReady: workload.outputReady, seed: seed)
        for (j, job) in workload.jobs.enumerated() {
          let expected = job.expected
          let got = j < run.outputs.count ? run.outputs[j] : []
          guard got == expected else {
            let i = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, expected.count)
            let detail = i < got.count && i < expected.count
              ? "element \(i): RTL \(got[i]), golden \(expected[i]) (accumulator \(job.accumulators[i]), scale \(job.scale))"
              : "\(got.count) of \(expected.count) elements"
            return outcome(.failed("seed \(seed), \(config): vector \(j) \(detail)"), cycles: run.cycles)
          }
        }
        return outcome(.passed, cycles: run.cycles, checked: workload.outputs)
      } catch {
        return outcome(.failed("\(error)"))
      }
    case .axiRead(let config):
      let workload = AXIReadWorkload(config: config, seed: seed)
      do {
        let sim = try serialized(regressCase.target) {
          try AXIReadMasterSimulation(config: config, slave: workload.slave, cache: cache)
        }
        let run = try workload.run(on: sim)
        return outcome(.passed, cycles: run.cycles, checked: run.beats)
      } catch {
        return outcome(.failed("\(error)"))
      }
    case .accelerator(let config):
      do {
        let sim = try serialized(regressCase.target) {
          try AcceleratorSimulation(
            weights: ModelWeights.synthetic(.tiny, seed: seed), config: config,
            profile: try DeviceProfile.named("d5005"), clockMHz: 300, cache: cache)
        }
        let vocab = UInt64(ModelConfig.tiny.vocabSize)
        // Stream 0: two ids from the seed; each later stream 1 to 3 ids of its own.
        let prompts = [[Int(seed % vocab), Int((seed / 7) % vocab)]] + (1..<config.streams).map { s in
          (0...(s % 3)).map { k in Int((seed &* 31 &+ UInt64(7 * s + 13 * k)) % vocab) }
        }
        let runs = try sim.run(prompts: prompts, tokens: 3)
        let cycles = runs.reduce(0) { $0 + $1.measured.total }
        if let m = runs.compactMap(\.mismatch).first {
          let what = config.streams == 1 ? "prompt \(prompts[0])" : "\(config.streams) streams, prompts \(prompts)"
          return outcome(.failed("seed \(seed), \(config.lanes) lanes, tiny preset, \(what): \(m)"), cycles: cycles)
        }
        return outcome(.passed, cycles: cycles, checked: runs.reduce(0) { $0 + $1.compared })
      } catch {
        return outcome(.failed("\(error)"))
      }
    }
  }

  /// Creates a unit's simulation with the target's slot held, so two cases of
  /// one target never build its library twice (the second finds it cached).
  private func serialized<T>(_ target: RegressTarget, _ make: () throws -> T) throws -> T {
    let slot = self.slot(target)
    slot.lock.lock()
    defer { slot.lock.unlock() }
    return try make()
  }

  /// A fresh MLGRU model out of reset; its library is built once per runner
  /// (the slot lock keeps two cases of one target from building it twice).
  private func mlgruSimulation(_ target: RegressTarget, _ config: MLGRUUnitConfig) throws -> MLGRUUnitSimulation {
    let slot = self.slot(target)
    slot.lock.lock()
    defer { slot.lock.unlock() }
    return try MLGRUUnitSimulation(config: config, cache: cache)
  }

  /// Runs the core case; returns its cycles and the first problem found, if any.
  private func runCore(
    _ config: TernaryCoreConfig, workload: RegressWorkload, regressCase: RegressCase
  ) throws -> (cycles: Int, problem: String?) {
    let seed = regressCase.seed
    let bundle = try self.bundle(regressCase.target, config)
    switch regressCase.simulator {
    case .verilator:
      let library = try self.library(regressCase.target, bundle)
      let model = try VerilatedModel(library: library)
      defer { model.close() }
      let bench = try TernaryCoreTestbench(config: config, model: model)
      try bench.reset()
      let run = try bench.run(workload.jobs, stalls: workload.stalls, seed: seed)
      do {
        try TernaryCoreCheck.compare(run, workload.jobs, config: config, seed: seed)
      } catch {
        return (run.cycles, "\(error)")
      }
      return (run.cycles, nil)
    case .iverilog:
      let keep = keepFailures?.appendingPathComponent("\(regressCase.target.unit)-\(regressCase.target.spec.replacingOccurrences(of: ":", with: "-"))-seed\(seed)")
      let run = try IcarusSimulation.run(
        bundle: bundle, jobs: workload.jobs, pattern: IcarusTestbench.Pattern(stalls: workload.stalls, seed: seed), keep: keep)
      let asRun = TernaryCoreRun(outputs: run.outputs, cycles: run.cycles, beats: 0)
      var problem: String?
      do {
        try TernaryCoreCheck.compare(asRun, workload.jobs, config: config, seed: seed)
        if !run.selfCheckPassed { problem = "seed \(seed), \(config): the bench's own check failed: \(run.summary)" }
      } catch {
        problem = "\(error) (bench: \(run.summary))"
      }
      if problem == nil, let keep { try? FileManager.default.removeItem(at: keep) }
      return (run.cycles, problem)
    }
  }

  /// The target's RTL, generated once per runner.
  private func bundle(_ target: RegressTarget, _ config: TernaryCoreConfig) throws -> RTLBundle {
    let slot = self.slot(target)
    slot.lock.lock()
    defer { slot.lock.unlock() }
    if let result = slot.bundle { return try result.get() }
    let result = Result { try RTLBundle(config: config) }
    slot.bundle = result
    return try result.get()
  }

  /// The target's Verilated library, built (or found in the cache) once per runner.
  private func library(_ target: RegressTarget, _ bundle: RTLBundle) throws -> BuiltLibrary {
    let slot = self.slot(target)
    slot.lock.lock()
    defer { slot.lock.unlock() }
    if let result = slot.library { return try result.get() }
    let result = Result { try cache.library(for: VerilatorBuildSpec(bundle: bundle)) }
    slot.library = result
    return try result.get()
  }

  private func slot(_ target: RegressTarget) -> BuildSlot {
    lock.lock()
    defer { lock.unlock() }
    if let slot = slots[target] { return slot }
    let slot = BuildSlot()
    slots[target] = slot
    return slot
  }
}
