import Foundation
import HWSpec
import HWTools

/// The line `hwgen simulate` and `hwgen bench accel` print about their clock:
/// what supports it (RTL/timing.json for exactly this RTL), and a `warning:`
/// line on stderr when the clock exceeds the depth estimate.
enum ClockLine {
  static func report(config: AcceleratorConfig, profile: DeviceProfile, clockMHz: Double, fromProfile: Bool) throws {
    let support = try ClockSupport.describe(
      clockMHz: clockMHz, profile: profile, clockFromProfile: fromProfile, job: try SynthesisJob.accelerator(config),
      record: RecordedTiming.committed())
    print(support.line)
    if let warning = support.warning {
      // What went to stdout first stays first where both streams meet (a pipe buffers stdout):
      // fflush(nil) flushes every output stream.
      fflush(nil)
      FileHandle.standardError.write(Data((warning + "\n").utf8))
    }
  }
}
