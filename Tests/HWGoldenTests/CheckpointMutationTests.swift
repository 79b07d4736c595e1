import Dispatch
import Foundation
import HWGolden
import Testing

/// Every name under `dir`, recursively, sorted.
private func tree(_ dir: URL) -> [String] {
  guard let enumerator = FileManager.default.enumerator(atPath: dir.path) else { return [] }
  return enumerator.compactMap { $0 as? String }.sorted()
}

/// `hwgen import` of the trained kjv-2m checkpoint under seeded damage
/// (`CheckpointMutation`): every case ends in a model directory or in one
/// error line naming the file (and the key or tensor), within a time bound,
/// with nothing left behind. `HWGEN_MUTATION_SEEDS=17,40` reruns chosen seeds;
/// `HWGEN_MUTATION_TIMES=1` prints each case with its time.
@Suite("Checkpoint import under seeded damage to a real checkpoint")
struct CheckpointMutationTests {
  /// Cases per run: as many as fit in about 20 s of a debug build on 2 busy cores.
  static let cases = 160
  /// No case may take longer (a successful debug import of kjv-2m takes about 2 s).
  static let bound = 20.0

  static var seeds: [UInt64] {
    if let list = ProcessInfo.processInfo.environment["HWGEN_MUTATION_SEEDS"] {
      return list.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
    }
    return (1...UInt64(cases)).map { $0 }
  }

  /// The outcome of a run on another thread, once it is there.
  private final class Outcome: @unchecked Sendable {
    var value: String??
  }

  /// Runs `body` on another thread: its result (nil: no error, else the
  /// error's text), or nil if it has not returned within `seconds`.
  static func withTimeout(_ seconds: Double, _ body: @escaping @Sendable () -> String?) -> String?? {
    let box = Outcome()
    let done = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
      box.value = .some(body())
      done.signal()
    }
    return done.wait(timeout: .now() + seconds) == .success ? box.value : nil
  }

  @Test("kjv-2m under seeded mutations: success or one error line naming the file, in time, nothing left behind")
  func seededMutationsAreOneErrorLineOrASuccess() throws {
    let original = try #require(CheckpointMutation.trainedModel("kjv-2m"), "kjv-2m not found in models/ of the repository, $HWGEN_MODELS or shared/models")
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("hwgen-mutations-\(UInt64.random(in: 0...UInt64.max))")
    defer { try? FileManager.default.removeItem(at: root) }
    var failures = 0, succeeded = 0, refused = 0
    var slowest = (seconds: 0.0, what: "")
    var importSeconds = 0.0
    let wall = DispatchTime.now()
    for seed in Self.seeds {
      let dir = root.appendingPathComponent("case-\(seed)")
      let source = dir.appendingPathComponent("kjv-2m")
      try CheckpointMutation.link(original, to: source)
      let applied = try CheckpointMutation.apply(seed: seed, to: source)
      let before = tree(dir)
      let out = dir.appendingPathComponent("model")
      let start = DispatchTime.now()
      let result = Self.withTimeout(Self.bound) {
        do {
          _ = try CheckpointImport.run(source, to: out)
          return nil
        } catch {
          return "\(error)"
        }
      }
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
      importSeconds += seconds
      if ProcessInfo.processInfo.environment["HWGEN_MUTATION_TIMES"] != nil { print(String(format: "%.3f s  ", seconds) + applied.description) }
      if seconds > slowest.seconds { slowest = (seconds, applied.description) }
      func fail(_ why: String) {
        failures += 1
        Issue.record("\(applied): \(why)")
      }
      guard let outcome = result else {
        fail("no result after \(Self.bound) s")
        break  // the import is still running on its thread
      }
      if let error = outcome {
        refused += 1
        if error.isEmpty || error.contains(where: \.isNewline) { fail("not one error line: \(error.debugDescription)") }
        for text in applied.expected where !error.contains(text) { fail("error does not name '\(text)': \(error)") }
        if tree(dir) != before { fail("left \(Set(tree(dir)).subtracting(before).sorted()) behind: \(error)") }
      } else {
        succeeded += 1
        if applied.mustFail { fail("imported without an error") }
        let files = tree(out)
        if !files.contains("manifest.json") || !files.contains("ternary.bin") { fail("succeeded but wrote \(files)") }
        if tree(dir).contains(where: { $0.contains(".tmp-") }) { fail("left a staging directory: \(tree(dir))") }
      }
      try? FileManager.default.removeItem(at: dir)
      if failures >= 20 { break }
    }
    print("mutations: \(Self.seeds.count) cases, \(refused) refused with one error line, \(succeeded) imported; \(String(format: "%.1f", importSeconds)) s of \(String(format: "%.1f", Double(DispatchTime.now().uptimeNanoseconds - wall.uptimeNanoseconds) / 1e9)) s importing; slowest \(String(format: "%.2f", slowest.seconds)) s (\(slowest.what))")
    #expect(refused + succeeded == Self.seeds.count || failures > 0)
  }
}
