import Foundation
import HWSupport

/// A JSON record committed with the RTL (`RTL/synthesis.json`,
/// `RTL/timing.json`): how it is found in the checkout, read with one error
/// line when it cannot be, and written as deterministic bytes.
public protocol CommittedRecord: Codable {
  /// The path inside the checkout (`RTL/synthesis.json`).
  static var committedPath: String { get }
  /// What the record holds, for the error line ("synthesis record").
  static var recordKind: String { get }
  /// How reports name the record: its path (not stored).
  var displayName: String { get set }
}

extension CommittedRecord {
  /// The record committed in this checkout, if hwgen runs from one.
  public static func committed() -> Self? {
    guard let url = ProjectFiles.locate(committedPath), var record = try? Self(contentsOf: url) else { return nil }
    record.displayName = committedPath
    return record
  }

  public init(contentsOf file: URL) throws {
    let data: Data
    do { data = try Data(contentsOf: file) } catch { throw ToolError("\(file.path) cannot be read") }
    do { self = try JSONDecoder().decode(Self.self, from: data) } catch {
      throw ToolError("\(file.path) is not a \(Self.recordKind): \(error)")
    }
    displayName = file.path
  }

  /// Deterministic bytes: sorted keys, entries in the order given.
  public func jsonData() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(self) + Data("\n".utf8)
  }
}
