import Foundation

/// Files that ship with the repository (the default checkpoint under
/// `models/`, the committed synthesis results under `RTL/`), found from
/// wherever hwgen runs: `$HWGEN_HOME` first, then the working directory and
/// its parents, then the executable's directory and its parents (so
/// `.build/release/hwgen` finds the checkout it was built in).
public enum ProjectFiles {
  /// The first existing `relativePath` under the candidate roots.
  public static func locate(_ relativePath: String) -> URL? {
    for root in roots() {
      let url = root.appendingPathComponent(relativePath)
      if FileManager.default.fileExists(atPath: url.path) { return url.standardizedFileURL }
    }
    return nil
  }

  static func roots() -> [URL] {
    var roots: [URL] = []
    if let home = ProcessInfo.processInfo.environment["HWGEN_HOME"], !home.isEmpty {
      roots.append(URL(fileURLWithPath: home, isDirectory: true))
    }
    func ancestors(of start: URL) {
      var url = start.standardizedFileURL
      for _ in 0..<16 {
        roots.append(url)
        let parent = url.deletingLastPathComponent()
        if parent.path == url.path { break }
        url = parent
      }
    }
    ancestors(of: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
    if let executable = Bundle.main.executableURL {
      ancestors(of: executable.resolvingSymlinksInPath().deletingLastPathComponent())
    }
    return roots
  }
}
