import Foundation
import HWSupport

/// Timing results committed with the RTL (`RTL/timing.json`, written by
/// `hwgen timing --record`), so `hwgen simulate` can say what supports its
/// clock without minutes of Yosys and nextpnr. Like `RecordedSynthesis`, an
/// entry is used only for exactly the sources, scripts and tool versions it
/// was made from: its key is recomputed from the job with the tools it records.
public struct RecordedTiming: Codable, Sendable {
  public struct Entry: Codable, Sendable {
    /// The tool versions of the run (`TimingRunner.toolVersions`).
    public var tools: String
    /// The core lanes of the RTL (`hwgen emit --lanes`).
    public var lanes: Int
    public var result: TimingResult

    public init(tools: String, lanes: Int, result: TimingResult) {
      self.tools = tools
      self.lanes = lanes
      self.result = result
    }
  }

  public var entries: [Entry]
  /// How reports name the record: its path (not stored).
  public var displayName = "timing.json"

  enum CodingKeys: String, CodingKey { case entries }

  public static let committedPath = "RTL/timing.json"
  public static func committed() -> RecordedTiming? {
    guard let url = ProjectFiles.locate(committedPath), var record = try? RecordedTiming(contentsOf: url) else { return nil }
    record.displayName = committedPath
    return record
  }

  public init(entries: [Entry]) {
    self.entries = entries
  }

  public init(contentsOf file: URL) throws {
    let data: Data
    do { data = try Data(contentsOf: file) } catch { throw ToolError("\(file.path) cannot be read") }
    do { self = try JSONDecoder().decode(RecordedTiming.self, from: data) } catch {
      throw ToolError("\(file.path) is not a timing record: \(error)")
    }
    displayName = file.path
  }

  /// The entry made from exactly `job` under `analysis`.
  public func entry(for job: SynthesisJob, analysis: TimingAnalysis) -> Entry? {
    entries.first {
      $0.result.analysis == analysis && $0.result.top == job.files.top
        && TimingRunner.key(for: job, analysis: analysis, tools: $0.tools) == $0.result.key
    }
  }

  /// Deterministic bytes: sorted keys, entries in the order given.
  public func jsonData() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(self) + Data("\n".utf8)
  }
}
