import ArgumentParser
import Foundation
import HWGenerators
import HWReport
import HWSim
import HWTools
import HWSpec
import HWSupport

struct Synth: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Synthesize every unit of the accelerator with Yosys and report LUTs, flip-flops, block RAM and DSPs, per unit and in total, against the device's capacity.",
    discussion: """
      The RTL is what `hwgen emit --lanes N` writes, one synthesis per unit module, hierarchy \
      kept. UltraScale+ devices (u280, u250, kv260) use synth_xilinx -family xcup; the \
      Stratix 10 D5005 uses synth_intel_alm -family cyclonev, because Yosys 0.23 has no \
      Stratix 10 flow (docs/power.md). Results are cached by the SHA-256 of the sources, \
      the script and the Yosys version under the hwgen cache directory ($HWGEN_CACHE, else \
      $XDG_CACHE_HOME/hwgen, else ~/.cache/hwgen). The table and the JSON carry no timings; \
      progress and the wall time go to stderr.
      """)

  @Option(help: "Core lanes (the element-wise units take min(lanes, 64)); 1-256.")
  var lanes: Int = AcceleratorConfig.defaultLanes

  @Option(help: "Device profile: \(DeviceProfile.all.map(\.name).joined(separator: ", ")).")
  var device: String = "u280"

  @Option(help: "Weights in memory: planes (2 bits a weight) or base3 (adds weight_unpack).")
  var packing: WeightPacking = .planes

  @Option(help: "Streams of mmfree_accel (sequences side by side, one ternary core each; 1-\(AcceleratorConfig.maxStreams)).")
  var streams: Int = 1

  @Option(help: ArgumentHelp("Write the report as JSON to this file (replaced atomically).", valueName: "file"))
  var json: String?

  @Option(help: "Units synthesized at once (1-2: Yosys is single-threaded and the machine has two cores).")
  var jobs: Int = 2

  @Option(help: ArgumentHelp(
    "Instead of the unit table: synthesize mmfree_accel (the default configuration at --lanes, --packing and --streams) under every flow the device profiles use and record the results in this file (make rtl writes \(RecordedSynthesis.committedPath); hwgen simulate uses a record that matches its RTL instead of running Yosys).",
    valueName: "file"))
  var record: String?

  func validate() throws {
    guard (1...256).contains(lanes) else { throw ValidationError("lanes must be between 1 and 256, got \(lanes)") }
    guard (1...2).contains(jobs) else { throw ValidationError("jobs must be 1 or 2, got \(jobs)") }
    do { _ = try DeviceProfile.named(device) } catch let error as DeviceProfile.Unknown {
      throw ValidationError(error.description)
    }
    if let json { try Regress.checkWritable(file: json, option: "json") }
    if let record { try Regress.checkWritable(file: record, option: "record") }
  }

  func run() throws {
    if let record { return try recordAccelerator(to: URL(fileURLWithPath: record)) }
    let profile = try DeviceProfile.named(device)
    let flow = try SynthesisFlow.forFamily(profile.family)
    // The core `hwgen emit --lanes N` writes (and the accelerator uses).
    let core = AcceleratorConfig(lanes: lanes).core
    try core.validate()
    let bundle = try UnitsBundle(core: core, weightPacking: packing, streams: streams)
    _ = try ExternalTool.yosys.locate()
    let variant = (packing == .planes ? "" : ", \(packing) weights") + (streams == 1 ? "" : ", \(streams) streams")
    print("hwgen synth: lanes \(lanes)\(variant), device \(profile.name) (\(profile.fpga))")
    let clock = Stopwatch()
    let done = Counter()
    let total = bundle.units.count
    let report = try ResourceReport.synthesize(bundle, profile: profile, runner: SynthesisRunner(flow: flow), jobs: jobs) {
      result in
      let how = result.fromCache ? "cached" : Format.seconds(result.seconds)
      FileHandle.standardError.write(Data("[\(done.increment())/\(total)] \(result.top): \(how)\n".utf8))
    }
    for line in Self.lines(report) { print(line) }
    if let json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      try FileOutput.writeAtomically(try encoder.encode(report) + Data("\n".utf8), to: URL(fileURLWithPath: json))
    }
    let cached = report.units.filter(\.fromCache).count
    FileHandle.standardError.write(Data("wall: \(Format.seconds(clock.seconds)) (\(cached) of \(total) units from the cache)\n".utf8))
  }

  /// The report as text: flow, one row per unit, the total and the device share.
  static func lines(_ r: ResourceReport) -> [String] {
    let intel = r.units.first?.resources.alms != nil
    func row(_ name: String, _ top: String, _ x: SynthesisResources) -> [String] {
      [name, top, "\(x.luts)", "\(x.lutsAsMemory)", "\(x.flipFlops)", Format.significant(x.blockRAMBlocks, 4),
       "\(x.ultraRAMBlocks)", bits(x.blockRAMBits + x.ultraRAMBits), bits(x.memoryBits), "\(x.dsps)"]
    }
    let header = ["unit", "top", intel ? "ALUTs" : "LUTs", "as RAM/SRL", "FFs", intel ? "M10K" : "BRAM36", "URAM",
                  "RAM bits", "RTL mem bits", "DSPs"]
    var rows = r.units.map { row($0.name, $0.top, $0.resources) }
    rows.append(row("total", "", r.total))
    var out = [
      "flow: \(r.yosys); \(r.flow)",
      "LUTs: \(r.lutUnit); block RAM: \(r.blockRAMUnit)",
      "",
      Format.table(header, rows),
      "",
      "total: \(r.totalBasis)",
    ]
    func share(_ f: Double?) -> String { f.map(Format.percent) ?? "n/a" }
    let u = r.utilization
    let logic = intel ? "ALMs \(r.total.alms ?? 0) (\(share(u.luts)))" : "LUTs \(share(u.luts))"
    out.append(
      "device share (\(r.device)): \(logic), FFs \(share(u.flipFlops)), block RAM bits \(share(u.blockRAMBits))"
        + (u.ultraRAMBits == nil ? "" : ", UltraRAM bits \(share(u.ultraRAMBits))") + ", DSPs \(share(u.dsps))")
    for unit in r.units where unit.resources.memoryBitsOutsideBlockRAM > 0 {
      out.append(
        "WARNING: \(unit.top): \(bits(unit.resources.memoryBitsOutsideBlockRAM)) of its \(bits(unit.resources.memoryBits)) RTL memory bits did not map to block RAM (LUT RAM or flip-flops)")
    }
    return out
  }

  /// `--record`: one entry per flow, in a fixed order, without timings.
  func recordAccelerator(to file: URL) throws {
    _ = try ExternalTool.yosys.locate()
    let job = try SynthesisJob.accelerator(AcceleratorConfig(lanes: lanes, weightPacking: packing, streams: streams))
    let yosys = try SynthesisRunner.yosysVersion()
    let flows: [SynthesisFlow] = [.intelALM, .ultraScalePlus]
    let clock = Stopwatch()
    let results = WorkSlots<Result<SynthesisResult, Error>>.map(
      flows.count, jobs: jobs,
      done: { i, result in
        if case .success(let r) = result {
          FileHandle.standardError.write(Data("\(flows[i].kind.rawValue): \(r.fromCache ? "cached" : Format.seconds(r.seconds))\n".utf8))
        }
      }
    ) { i in Result { try SynthesisRunner(flow: flows[i]).synthesize(job, yosys: yosys) } }
    let entries = try zip(flows, results).map { (flow: SynthesisFlow, slot: Result<SynthesisResult, Error>) -> RecordedSynthesis.Entry in
      let r = try slot.get()
      print("\(r.top) (lanes \(lanes)), \(flow.command): \(r.resources.luts) \(flow.lutUnit), \(r.resources.flipFlops) FFs, \(Format.significant(r.resources.blockRAMBlocks, 4)) \(flow.blockRAMUnit), \(r.resources.dsps) DSPs")
      return RecordedSynthesis.Entry(flow: flow.kind, yosys: yosys, result: r)
    }
    try FileOutput.writeAtomically(try RecordedSynthesis(entries: entries).jsonData(), to: file)
    print("recorded: \(file.path)")
    FileHandle.standardError.write(Data("wall: \(Format.seconds(clock.seconds))\n".utf8))
  }

  static func bits(_ n: Int) -> String { n == 0 ? "0" : Format.si(Double(n), "b") }
}
