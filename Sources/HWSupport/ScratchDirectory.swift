import Foundation

/// Scratch directories that live as long as the process: each under one
/// per-process root in the temporary directory (`hwgen-scratch-<pid>`), which
/// is removed when the process exits, so runs that make thousands of them
/// (the test suites) leave nothing behind.
public enum ScratchDirectory {
  private static let root: URL = {
    let url = rootURL(pid: getpid())
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: ScratchDirectory.rootURL(pid: getpid())) }
    return url
  }()

  static func rootURL(pid: pid_t) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("hwgen-scratch-\(pid)", isDirectory: true)
  }

  /// A new empty directory named `<prefix>-<random>` under the process's root.
  public static func make(_ prefix: String) -> URL {
    let dir = root.appendingPathComponent("\(prefix)-\(UInt64.random(in: 0...UInt64.max))", isDirectory: true)
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
  }
}
