import Foundation
import HWSupport

/// Synthesis results committed with the RTL (`RTL/synthesis.json`, written
/// by `make rtl`), so a fresh checkout estimates power without minutes of
/// Yosys. An entry is used only for exactly the sources and script it was
/// made from: its key is recomputed from the job with the Yosys version the
/// entry records, so any change to the RTL or the flow misses it (and the
/// tests fail until `make rtl` records it again).
public struct RecordedSynthesis: CommittedRecord, Sendable {
  public struct Entry: Codable, Sendable {
    public var flow: SynthesisFlow.Kind
    /// `yosys -V` of the run that produced `result`.
    public var yosys: String
    public var result: SynthesisResult

    public init(flow: SynthesisFlow.Kind, yosys: String, result: SynthesisResult) {
      self.flow = flow
      self.yosys = yosys
      self.result = result.forRecord
    }
  }

  public var entries: [Entry]
  /// How reports name the record: its path (not stored).
  public var displayName = "synthesis.json"

  enum CodingKeys: String, CodingKey { case entries }

  public static let committedPath = "RTL/synthesis.json"
  public static let recordKind = "synthesis record"

  public init(entries: [Entry]) {
    self.entries = entries
  }

  /// The entry made from exactly `job` under `runner`'s flow.
  public func entry(for job: SynthesisJob, runner: SynthesisRunner) -> Entry? {
    entries.first { $0.flow == runner.flow.kind && runner.key(for: job, yosys: $0.yosys) == $0.result.key }
  }
}

extension SynthesisResult {
  /// The result as a record keeps it: no wall time, not from a cache.
  public var forRecord: SynthesisResult {
    SynthesisResult(name: name, top: top, resources: resources, cells: cells, key: key, seconds: 0, fromCache: false)
  }
}
