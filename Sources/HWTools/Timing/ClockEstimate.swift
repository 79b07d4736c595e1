import Foundation
import HWSpec

/// A rule of thumb for the clock a register-to-register depth supports on a
/// family: an estimate, not timing analysis (docs/timing.md).
///
/// The clock period is budgeted as a fixed part (clock-to-out, setup, clock
/// skew) plus one LUT-and-route delay per LUT level; carry chains are not
/// charged (they run on dedicated fast routing). The constants are
/// assumptions of this estimate, chosen as typical for the fastest 6-input-LUT
/// fabrics: they are not from a vendor's table. For Stratix 10 the one
/// documented figure is Quartus's Design Assistant rule TMC-20010 ("Logic
/// Level Depth"), which by default flags paths of more than 5 logic levels;
/// the estimate reports against it.
public struct ClockEstimate: Sendable, Hashable {
  public let family: String
  /// Nanoseconds of every period not spent in LUT levels.
  public let fixedNs: Double
  public let perLevelNs: Double
  /// A depth above this is flagged by the vendor's own rule (nil: no such rule here).
  public let levelThreshold: Int?
  public let source: String

  public static let ultraScalePlus = ClockEstimate(
    family: "UltraScale+", fixedNs: 1.0, perLevelNs: 0.45, levelThreshold: nil,
    source: "estimate: 1.0 ns + 0.45 ns per LUT level (an assumed budget, see docs/timing.md)")

  public static let stratix10 = ClockEstimate(
    family: "Stratix 10", fixedNs: 1.0, perLevelNs: 0.45, levelThreshold: 5,
    source: "estimate: 1.0 ns + 0.45 ns per LUT level; Quartus Design Assistant TMC-20010 flags > 5 levels")

  public static func forFamily(_ family: String) -> ClockEstimate? {
    switch family {
    case "ultrascale+": return .ultraScalePlus
    case "stratix10": return .stratix10
    default: return nil
    }
  }

  /// The analysis whose depth the estimate reads for this family.
  public var analysis: TimingAnalysis { self == .stratix10 ? .intelALM : .ultraScalePlus }

  /// The clock `levels` LUT levels support, in MHz.
  public func mhz(levels: Int) -> Double { 1000 / (fixedNs + perLevelNs * Double(levels)) }
}

/// What supports the clock a report uses: the line `hwgen simulate` and
/// `hwgen bench accel` print, and a warning when the clock exceeds the estimate.
public struct ClockSupport: Sendable {
  public let line: String
  public let warning: String?

  /// From the record's entries for `job` (the simulated accelerator's RTL)
  /// and the ECP5 configuration's place and route.
  public static func describe(
    clockMHz: Double, profile: DeviceProfile, clockFromProfile: Bool, job: SynthesisJob, record: RecordedTiming?
  ) throws -> ClockSupport {
    let origin = clockFromProfile ? "profile \(profile.name)" : "--clock-mhz"
    var parts = ["clock: \(mhz(clockMHz)) MHz (\(origin))"]
    guard let record else {
      return ClockSupport(line: parts[0] + "; no timing record (\(RecordedTiming.committedPath)): nothing supports it", warning: nil)
    }
    let ecp5Job = try SynthesisJob.accelerator(TimingReport.ecp5Accelerator)
    if let placed = record.entry(for: ecp5Job, analysis: .ecp5)?.result.placeAndRoute?.fmaxMHz {
      parts.append("ECP5 P&R Fmax \(mhz(placed)) MHz (\(TimingReport.ecp5Accelerator.lanes) lanes, kjv-2m-sized)")
    }
    guard let estimate = ClockEstimate.forFamily(profile.family) else { return ClockSupport(line: parts.joined(separator: "; "), warning: nil) }
    guard let depth = record.entry(for: job, analysis: estimate.analysis)?.result.depth else {
      parts.append("no \(estimate.family) depth recorded for this RTL (hwgen timing --record \(RecordedTiming.committedPath))")
      return ClockSupport(line: parts.joined(separator: "; "), warning: nil)
    }
    let supported = estimate.mhz(levels: depth.levels)
    parts.append("\(estimate.family) depth \(depth.levels) LUT levels ~ \(mhz(supported)) MHz estimate")
    let warning = clockMHz > supported
      ? "warning: the \(mhz(clockMHz)) MHz clock exceeds the \(mhz(supported)) MHz that \(depth.levels) LUT levels support on \(estimate.family) (\(estimate.source))"
      : nil
    return ClockSupport(line: parts.joined(separator: "; "), warning: warning)
  }

  static func mhz(_ value: Double) -> String { String(Int(value.rounded())) }
}
