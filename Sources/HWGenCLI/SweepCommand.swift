import ArgumentParser
import Foundation
import HWGenerators
import HWGolden
import HWReport
import HWSim
import HWSpec
import HWSupport
import HWTools

struct Sweep: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Simulate, synthesize and power-estimate a grid of accelerator designs (device x lanes x weight packing x weight FIFO x streams) and plot tokens/s against LUTs and J/token against tokens/s with the Pareto front.",
    discussion: """
      Each point runs as its own process (`--point ID`): the model through mmfree_accel in Verilator, \
      checked bit for bit against the golden model (the first --layers layers simulated, the rest \
      extrapolated and labelled), Yosys for its resources (cached by content), and the power model \
      (an estimate). Its result goes to DIR/points/ID.json; a point already there is not run again. \
      Then DIR gets sweep.json, sweep.csv and per device MODEL-DEVICE-throughput.svg and \
      MODEL-DEVICE-energy.svg; points that do not fit the device are grey. --write-jobs writes the \
      same points as DIR/jobs.txt (one command a line: `parallel -j N < DIR/jobs.txt`) and \
      DIR/slurm.sh (a Slurm array, `sbatch DIR/slurm.sh`) instead of running them; --collect then \
      makes the tables and plots from DIR/points. One stream per design: batching is not built.
      """)

  @Option(help: "Model preset with synthetic weights.") var model: String = "1.3b"
  @Option(help: "Device profiles, comma-separated.") var devices: String = "u250,u280"
  @Option(help: "Core lanes, comma-separated.") var lanes: String = "16,32,64"
  @Option(help: "Weight packings, comma-separated: planes, base3.") var packing: String = "planes,base3"
  @Option(name: .customLong("fifo-kib"), help: "Weight FIFO sizes in KiB, comma-separated.") var fifoKiB: String = "256"
  @Option(help: "Streams (sequences side by side, sharing every weight beat), comma-separated; tokens/s and J/token count every stream's tokens.")
  var streams: String = "1"
  @Option(help: "Layers simulated cycle-accurately at each point (the rest extrapolated); 0: every layer.") var layers: Int = 2
  @Option(help: "Tokens per point (after a one-token prompt).") var tokens: Int = 1
  @Option(help: "Seed of the synthetic weights.") var seed: UInt64 = 1
  @Option(help: "Points run at once (each a process with its own Verilator model and Yosys run).") var jobs: Int = 1
  @Option(help: "Output directory.") var out: String = "sweep"
  @Option(help: "Run only this point (an ID from the job list, e.g. u280-32-base3-256) into DIR/points.") var point: String?
  @Flag(help: "Write DIR/jobs.txt and DIR/slurm.sh for the grid instead of running it.") var writeJobs = false
  @Flag(help: "Only make the tables and plots from DIR/points.") var collect = false

  struct Grid {
    let preset: ModelConfig
    let points: [SweepPoint]
  }

  func list<T>(_ text: String, _ option: String, _ parse: (String) -> T?) throws -> [T] {
    let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    return try items.map { item in
      guard !item.isEmpty, let value = parse(item) else { throw ValidationError("--\(option): '\(item)' is not valid") }
      return value
    }
  }

  func grid() throws -> Grid {
    let preset: ModelConfig
    do { preset = try ModelConfig.preset(named: model) } catch { throw ValidationError("\(error)") }
    let deviceNames = try list(devices, "devices") { $0 }
    for name in deviceNames {
      do { _ = try DeviceProfile.named(name) } catch { throw ValidationError("\(error)") }
    }
    let laneCounts = try list(lanes, "lanes") { Int($0) }
    let packings = try list(packing, "packing") { WeightPacking(rawValue: $0) }
    let fifos = try list(fifoKiB, "fifo-kib") { Int($0).flatMap { (1...65536).contains($0) ? $0 : nil } }
    let streamCounts = try list(streams, "streams") { Int($0) }
    let points = SweepPoint.grid(
      devices: deviceNames, lanes: laneCounts, packings: packings, fifoKiB: fifos, streams: streamCounts)
    for p in points {
      do {
        try AcceleratorGenerator.validate(p.config)
        _ = try AcceleratorProgram(model: preset, config: p.config, betas: { _, _ in Scale(mantissa: 0, exponent: 0) })
      } catch { throw ValidationError("lanes \(p.lanes), \(p.packing), \(p.streams) stream(s): \(error)") }
    }
    guard Set(points).count == points.count else { throw ValidationError("the grid lists a point twice") }
    return Grid(preset: preset, points: points)
  }

  func validate() throws {
    let grid = try grid()
    guard (0...grid.preset.layers).contains(layers) else {
      throw ValidationError("layers must be between 0 and \(grid.preset.layers), got \(layers)")
    }
    guard (1...1000).contains(tokens) else { throw ValidationError("tokens must be between 1 and 1000, got \(tokens)") }
    guard (1...64).contains(jobs) else { throw ValidationError("jobs must be between 1 and 64, got \(jobs)") }
    if let point, !grid.points.contains(where: { $0.id == point }) {
      throw ValidationError("point '\(point)' is not in the grid (\(grid.points.map(\.id).joined(separator: ", ")))")
    }
    guard [point != nil, writeJobs, collect].filter({ $0 }).count <= 1 else {
      throw ValidationError("--point, --write-jobs and --collect are mutually exclusive")
    }
  }

  var outDirectory: URL { URL(fileURLWithPath: out) }
  var pointsDirectory: URL { outDirectory.appendingPathComponent("points") }
  func resultFile(_ p: SweepPoint) -> URL { pointsDirectory.appendingPathComponent("\(p.id).json") }

  func run() throws {
    let grid = try grid()
    if let id = point {
      let p = grid.points.first { $0.id == id }!
      let result = try Self.measure(p, preset: grid.preset, layers: layers, tokens: tokens, seed: seed)
      try FileManager.default.createDirectory(at: pointsDirectory, withIntermediateDirectories: true)
      try FileOutput.writeAtomically(try result.json(), to: resultFile(p))
      print("\(p.id): \(Format.significant(result.tokensPerSecond, 4)) tokens/s, \(result.logic) LUTs, \(Format.significant(result.joulesPerToken * 1e3, 3)) mJ/token")
      return
    }
    if writeJobs { return try writeJobList(grid) }
    if !collect { try runPoints(grid) }
    try summarize(grid)
  }

  /// The command that runs one point, as the job list gives it.
  func pointCommand(_ p: SweepPoint, executable: String) -> [String] {
    [
      executable, "sweep", "--model", model, "--devices", devices, "--lanes", lanes, "--packing", packing,
      "--fifo-kib", fifoKiB, "--streams", streams, "--layers", "\(layers)", "--tokens", "\(tokens)", "--seed", "\(seed)", "--out", out,
      "--point", p.id,
    ]
  }

  func writeJobList(_ grid: Grid) throws {
    let lines = grid.points.map { pointCommand($0, executable: "hwgen").map(Self.shellQuoted).joined(separator: " ") }
    let collectLine = ["hwgen", "sweep", "--model", model, "--devices", devices, "--lanes", lanes, "--packing", packing,
                       "--fifo-kib", fifoKiB, "--streams", streams, "--layers", "\(layers)", "--tokens", "\(tokens)", "--seed", "\(seed)",
                       "--out", out, "--collect"].map(Self.shellQuoted).joined(separator: " ")
    let slurm = [
      "#!/bin/bash",
      "# hwgen sweep as a Slurm job array: one point a task (hwgen on PATH on every node).",
      "# Submit with: sbatch \(out)/slurm.sh; when every task is done: \(collectLine)",
      "#SBATCH --job-name=hwgen-sweep",
      "#SBATCH --array=0-\(grid.points.count - 1)",
      "#SBATCH --cpus-per-task=2",
      "#SBATCH --mem=16G",
      "set -euo pipefail",
      "eval \"$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" \(Self.shellQuoted(out + "/jobs.txt")))\"",
    ]
    try FileManager.default.createDirectory(at: outDirectory, withIntermediateDirectories: true)
    try FileOutput.writeAtomically([
      (outDirectory.appendingPathComponent("jobs.txt"), Data((lines.joined(separator: "\n") + "\n").utf8)),
      (outDirectory.appendingPathComponent("slurm.sh"), Data((slurm.joined(separator: "\n") + "\n").utf8)),
    ])
    print("wrote \(out)/jobs.txt (\(grid.points.count) points; GNU parallel: parallel -j N < \(out)/jobs.txt) and \(out)/slurm.sh (sbatch \(out)/slurm.sh)")
    print("then: \(collectLine)")
  }

  static func shellQuoted(_ s: String) -> String {
    s.allSatisfy { $0.isLetter || $0.isNumber || "-_.,/:=".contains($0) } ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  /// A stored result that answers this grid's question (same model, layers, tokens and seed).
  func stored(_ p: SweepPoint, _ grid: Grid) -> SweepResult? {
    guard let data = try? Data(contentsOf: resultFile(p)),
      let r = try? JSONDecoder().decode(SweepResult.self, from: data),
      r.point == p, r.model == grid.preset.name, r.seed == seed, r.tokens == tokens,
      r.layersSimulated == (layers == 0 ? grid.preset.layers : layers)
    else { return nil }
    return r
  }

  /// Every point not stored yet, `jobs` child processes at a time, with a progress line each.
  /// Points that share a synthesis (the same design under the same flow: u250 and u280 both
  /// use synth_xilinx) never run at once, so Yosys runs once and the others read its cache;
  /// the first point of each such group goes first.
  func runPoints(_ grid: Grid) throws {
    @Sendable func synthesisGroup(_ p: SweepPoint) -> String {
      let family = (try? DeviceProfile.named(p.device).family) ?? p.device
      return "\(p.lanes)-\(p.packing)-\(p.fifoKiB)-\(p.streams)-\(family)"
    }
    let waiting = grid.points.filter { stored($0, grid) == nil }
    var seen = Set<String>()
    let firsts = waiting.filter { seen.insert(synthesisGroup($0)).inserted }
    let todo = firsts + waiting.filter { p in !firsts.contains(p) }
    let groupLocks = Dictionary(uniqueKeysWithValues: seen.map { ($0, NSLock()) })
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    print("hwgen sweep: \(grid.preset.name), \(grid.points.count) points, \(grid.points.count - todo.count) already in \(pointsDirectory.path), \(jobs) at a time")
    fflush(nil)
    let done = Counter()
    let start = Date()
    let outcomes = WorkSlots<Result<String, Error>>.map(
      todo.count, jobs: jobs,
      done: { i, outcome in
        let line: String
        switch outcome {
        case .success(let summary): line = summary
        case .failure(let error): line = "\(todo[i].id): FAILED: \(error)"
        }
        FileHandle.standardError.write(Data("[\(done.increment())/\(todo.count)] \(line) (\(Format.seconds(Date().timeIntervalSince(start))) in)\n".utf8))
      }
    ) { i in
      let lock = groupLocks[synthesisGroup(todo[i])]!
      lock.lock()
      defer { lock.unlock() }
      return Result {
        let watch = Stopwatch()
        let result = try ProcessResult.run(executable, Array(pointCommand(todo[i], executable: executable).dropFirst()))
        guard result.succeeded else {
          let tail = result.output.split(separator: "\n").suffix(3).joined(separator: " | ")
          throw SimulateError("exit \(result.status): \(tail)")
        }
        let last = result.output.split(separator: "\n").last.map(String.init) ?? todo[i].id
        return "\(last) in \(Format.seconds(watch.seconds))"
      }
    }
    let failed = zip(todo, outcomes).compactMap { p, o -> String? in
      if case .failure(let error) = o { return "\(p.id): \(error)" }
      return nil
    }
    guard failed.isEmpty else { throw SimulateError("\(failed.count) of \(todo.count) points failed; first: \(failed[0])") }
  }

  /// The tables and plots from the stored points.
  func summarize(_ grid: Grid) throws {
    let found = grid.points.map { ($0, stored($0, grid)) }
    let missing = found.filter { $0.1 == nil }.map(\.0)
    guard missing.isEmpty else {
      throw SimulateError("no result in \(pointsDirectory.path) for \(missing.map(\.id).joined(separator: ", ")) (run them: hwgen sweep ... --point ID)")
    }
    let summary = SweepSummary(found.compactMap(\.1))
    let groups = summary.byDevice
    var files: [(URL, Data)] = [
      (outDirectory.appendingPathComponent("sweep.json"), try summary.json()),
      (outDirectory.appendingPathComponent("sweep.csv"), Data(summary.csv.utf8)),
    ]
    let extrapolation = layers == 0 ? "every layer simulated" : "\(layers) of \(grid.preset.layers) layers simulated"
    for group in groups {
      let base = "\(grid.preset.name)-\(group.device)", on = "\(grid.preset.name) on \(group.device)"
      files.append((
        outDirectory.appendingPathComponent("\(base)-throughput.svg"),
        Data(SweepPlot.throughput(
          group.results, front: group.throughputFront, title: "\(on): tokens/s against LUTs (\(extrapolation))").utf8)))
      files.append((
        outDirectory.appendingPathComponent("\(base)-energy.svg"),
        Data(SweepPlot.energy(
          group.results, front: group.energyFront, title: "\(on): J/token against tokens/s (\(extrapolation))").utf8)))
    }
    try FileOutput.writeAtomically(files)
    var rows: [[String]] = []
    for group in groups {
      for (i, r) in group.results.enumerated() {
        rows.append([
          group.device, "\(r.point.lanes)", r.point.packing.rawValue, "\(r.point.fifoKiB)", "\(r.point.streams)",
          Format.significant(r.tokensPerSecond, 4),
          Format.percent(r.rooflineFraction), "\(r.logic)", Format.percent(r.largestShare), r.fits ? "yes" : "no",
          Format.significant(r.watts, 3), Format.significant(r.joulesPerToken * 1e3, 3),
          [group.throughputFront.contains(i) ? "tokens/LUT" : nil, group.energyFront.contains(i) ? "J/token" : nil].compactMap { $0 }.joined(separator: ", "),
        ])
      }
    }
    print(Format.table(
      ["device", "lanes", "weights", "FIFO KiB", "streams", "tokens/s", "roofline", "LUTs/ALMs", "largest share", "fits", "W (est.)",
       "mJ/token (est.)", "Pareto"],
      rows))
    print("cycles: \(extrapolation)\(layers == 0 ? "" : ", the rest extrapolated"); clock: each profile's; watts and J/token: estimates (docs/power.md)")
    print("wrote \(out)/sweep.json, \(out)/sweep.csv and \(groups.count * 2) plots")
  }

  /// One point: simulate (bit-exact against the golden model), synthesize, estimate power.
  static func measure(_ p: SweepPoint, preset: ModelConfig, layers: Int, tokens: Int, seed: UInt64) throws -> SweepResult {
    let profile = try DeviceProfile.named(p.device)
    let config = p.config
    let clock = profile.defaultClockMHz
    let sim = try AcceleratorSimulation(
      weights: ModelWeights.synthetic(preset, seed: seed), config: config, profile: profile, clockMHz: clock,
      layers: layers == 0 ? nil : layers)
    let prompts = (0..<p.streams).map { [1 + $0] }
    let report = try AcceleratorRunner.run(sim, prompts: prompts, tokens: tokens, seed: seed, device: profile, clockMHz: clock)
    if let m = report.firstMismatch { throw SimulateError("\(p.id): \(m)") }
    let (power, synthesis, _) = try AcceleratorPower.estimate(report, sim: sim, profile: profile, clockMHz: clock, showProgress: false)
    let flow = try SynthesisFlow.forFamily(profile.family)
    let share = ResourceReport.utilization(synthesis.resources, profile.resources, flow: flow)
    let largest = [share.luts, share.flipFlops, share.blockRAMBits, share.ultraRAMBits, share.dsps].compactMap { $0 }.max() ?? 0
    let x = synthesis.resources
    return SweepResult(
      point: p, model: preset.name, seed: seed, tokens: tokens, clockMHz: clock, layersSimulated: report.layersSimulated,
      layers: report.layers,
      extrapolationBound: report.extrapolated ? LayerExtrapolation.errorBound(layersSimulated: report.layersSimulated) : nil,
      elementsCompared: report.elementsCompared, cyclesPerToken: report.cyclesPerToken,
      tokensPerSecond: report.tokensPerSecond, bytesPerToken: report.bytesPerToken,
      rooflineTokensPerSecond: report.rooflineTokensPerSecond, flow: flow.command,
      logic: flow.kind == .intelALM ? (x.alms ?? x.luts) : x.luts, flipFlops: x.flipFlops,
      blockRAMBlocks: x.blockRAMBlocks, dsps: x.dsps, largestShare: largest, watts: power.totalWatts,
      joulesPerToken: power.joulesPerToken)
  }
}
