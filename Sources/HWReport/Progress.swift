import Foundation

/// A long step's elapsed time on a terminal: "verilating mmfree_accel ... 12 s",
/// rewritten in place once a second until the step ends, then erased so the
/// step's own result line takes its place. Off a terminal (pipes, CI logs)
/// it prints nothing.
public final class ProgressTicker: @unchecked Sendable {
  private let label: String
  private let lock = NSLock()
  private var running = true
  private let done = DispatchSemaphore(value: 0)
  private let watch = Stopwatch()
  private let enabled: Bool

  public init(_ label: String, enabled: Bool = isatty(STDOUT_FILENO) != 0) {
    self.label = label
    self.enabled = enabled
    guard enabled else { return }
    let thread = Thread { [self] in
      while isRunning {
        draw()
        _ = done.wait(timeout: .now() + 1)
      }
    }
    thread.start()
  }

  private var isRunning: Bool {
    lock.lock()
    defer { lock.unlock() }
    return running
  }

  private func draw() {
    lock.lock()
    defer { lock.unlock() }
    guard running else { return }
    FileHandle.standardOutput.write(Data("\r\u{1B}[K\(label) ... \(Int(watch.seconds)) s".utf8))
  }

  /// Ends the ticker and erases its line.
  public func finish() {
    lock.lock()
    let wasRunning = running
    running = false
    lock.unlock()
    guard enabled && wasRunning else { return }
    done.signal()
    FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8))
  }

  /// Runs `body` with a ticker labelled `label`.
  public static func around<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
    let ticker = ProgressTicker(label)
    defer { ticker.finish() }
    return try body()
  }
}
