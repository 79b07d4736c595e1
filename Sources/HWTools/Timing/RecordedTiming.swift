import Foundation
import HWSupport

/// Timing results committed with the RTL (`RTL/timing.json`, written by
/// `hwgen timing --record`), so `hwgen simulate` can say what supports its
/// clock without minutes of Yosys and nextpnr. Like `RecordedSynthesis`, an
/// entry is used only for exactly the sources, scripts and tool versions it
/// was made from: its key is recomputed from the job with the tools it records.
public struct RecordedTiming: CommittedRecord, Sendable {
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
  public static let recordKind = "timing record"

  public init(entries: [Entry]) {
    self.entries = entries
  }

  /// This record with `newEntries` added, each replacing the entry it
  /// supersedes: the same analysis and top at the same lanes, or for the ECP5
  /// accelerator, which is one configuration (`TimingReport.ecp5Accelerator`),
  /// at any lanes that configuration had. Entries for other designs or lanes
  /// stay, so a record is built in pieces.
  public func adding(_ newEntries: [Entry]) -> RecordedTiming {
    let kept = entries.filter { old in
      !newEntries.contains {
        $0.result.analysis == old.result.analysis && $0.result.top == old.result.top
          && ($0.lanes == old.lanes || old.result.isECP5Accelerator)
      }
    }
    return RecordedTiming(entries: kept + newEntries)
  }

  /// Adds `newEntries` to the record in `file` (as `adding` does), reading the file again under
  /// `FileLock` just before replacing it: runs recording into one file at once (one a core) all
  /// land, each replacing only what its own results supersede. A file that is there but is not a
  /// record is an error and stays as it is.
  public static func add(_ newEntries: [Entry], to file: URL) throws {
    try FileLock.exclusively(for: file) {
      try FileOutput.writeAtomically(try reading(file).adding(newEntries).jsonData(), to: file)
    }
  }

  /// The record in `file`, or an empty one when there is no such file yet.
  public static func reading(_ file: URL) throws -> RecordedTiming {
    FileManager.default.fileExists(atPath: file.path) ? try RecordedTiming(contentsOf: file) : RecordedTiming(entries: [])
  }

  /// The entries the installed tools would make again: the same tool versions
  /// (`TimingRunner.toolVersions`; none for an analysis whose tools are missing).
  /// `hwgen timing --record` reuses these and re-runs only the designs whose RTL
  /// or tools changed.
  public func madeByInstalledTools() -> RecordedTiming {
    let installed = Dictionary(uniqueKeysWithValues: Set(entries.map(\.result.analysis)).map {
      ($0, try? TimingRunner.toolVersions($0))
    })
    var record = RecordedTiming(entries: entries.filter { installed[$0.result.analysis] == $0.tools })
    record.displayName = displayName
    return record
  }

  /// The entry made from exactly `job` under `analysis`.
  public func entry(for job: SynthesisJob, analysis: TimingAnalysis) -> Entry? {
    entries.first {
      $0.result.analysis == analysis && $0.result.top == job.files.top
        && TimingRunner.key(for: job, analysis: analysis, tools: $0.tools) == $0.result.key
    }
  }
}

extension TimingResult {
  /// The ECP5 place and route of `TimingReport.ecp5Accelerator`: one configuration, recorded at
  /// its own lanes whatever the lanes of the run that made it.
  public var isECP5Accelerator: Bool { analysis == .ecp5 && top == ResourceReport.acceleratorTop }
}
