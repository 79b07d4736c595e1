import Foundation

/// What Ctrl-C (SIGINT), SIGTERM and SIGHUP do to a running `hwgen`: every
/// temporary file or directory registered here is removed, the child processes
/// it is waiting for (verilator, g++, iverilog, vvp, yosys) and their own
/// children are killed, and
/// the process exits with status 128 + signal. Together with the temporary
/// names and renames of `FileOutput` and the Verilator build cache, an
/// interrupted run leaves no half-written output and no half cache entry.
///
/// Libraries register and release paths whether or not handlers are installed
/// (only the executable installs them; tests do not), so the bookkeeping is
/// cheap: a lock and an array.
public enum Interrupts {
  /// A registered path or child process; `release()` once it is gone or complete.
  public final class Registration: @unchecked Sendable {
    fileprivate let id: Int
    fileprivate init(id: Int) { self.id = id }
    public func release() { Interrupts.release(id) }
  }

  private enum Entry {
    case path(String)
    case child(Int32)
  }

  private static let lock = NSLock()
  /// Held while a group of renames must finish together; an interrupt waits for it.
  private static let renames = NSLock()
  nonisolated(unsafe) private static var entries: [(id: Int, entry: Entry)] = []
  nonisolated(unsafe) private static var nextID = 0
  nonisolated(unsafe) private static var installed = false
  /// The signal handler writes the signal number here; a thread reads it and cleans up.
  nonisolated(unsafe) private static var pipeWrite: Int32 = -1

  /// Installs the handlers (once per process). The handler itself only writes
  /// one byte to a pipe, which is async-signal-safe; a dedicated thread does
  /// the cleanup. Handled (not ignored) signals reset to the default in child
  /// processes, so Ctrl-C still reaches the tools directly.
  public static func install() {
    lock.lock()
    defer { lock.unlock() }
    guard !installed else { return }
    installed = true
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return }
    pipeWrite = fds[1]
    let readEnd = fds[0]
    let thread = Thread {
      var byte: UInt8 = 0
      while read(readEnd, &byte, 1) != 1 {}
      terminate(signal: Int32(byte))
    }
    thread.start()
    for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
      var action = sigaction()
      #if os(Linux)
        action.__sigaction_handler.sa_handler = { number in
          var byte = UInt8(truncatingIfNeeded: number)
          _ = write(Interrupts.pipeWrite, &byte, 1)
        }
      #else
        action.__sigaction_u.__sa_handler = { number in
          var byte = UInt8(truncatingIfNeeded: number)
          _ = write(Interrupts.pipeWrite, &byte, 1)
        }
      #endif
      sigemptyset(&action.sa_mask)
      action.sa_flags = SA_RESTART  // a blocking read elsewhere must not fail with EINTR
      sigaction(signalNumber, &action, nil)
    }
    // A parent may have blocked these signals (a test runner does); the mask is
    // inherited, so unblock them here, before the process starts more threads.
    var unblock = sigset_t()
    sigemptyset(&unblock)
    for signalNumber in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&unblock, signalNumber) }
    pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
  }

  /// Removes `url` (recursively) if the process is interrupted before `release()`.
  public static func removeOnInterrupt(_ url: URL) -> Registration { register(.path(url.path)) }

  /// Terminates `pid` if the process is interrupted before `release()`.
  public static func terminateOnInterrupt(pid: Int32) -> Registration { register(.child(pid)) }

  /// Runs `body` (a short sequence of renames) to completion before any
  /// interrupt takes effect.
  public static func uninterrupted<T>(_ body: () throws -> T) rethrows -> T {
    renames.lock()
    defer { renames.unlock() }
    return try body()
  }

  private static func register(_ entry: Entry) -> Registration {
    lock.lock()
    defer { lock.unlock() }
    nextID += 1
    entries.append((nextID, entry))
    return Registration(id: nextID)
  }

  private static func release(_ id: Int) {
    lock.lock()
    entries.removeAll { $0.id == id }
    lock.unlock()
  }

  /// Every process below `root`, from /proc (children first found, then theirs).
  static func descendants(of root: Int32) -> [Int32] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    var parentOf: [Int32: Int32] = [:]
    for name in names {
      guard let pid = Int32(name) else { continue }
      let fields = statFields(pid)
      if fields.count > 1, let ppid = Int32(fields[1]) { parentOf[pid] = ppid }
    }
    var found: [Int32] = []
    var frontier = [root]
    while let parent = frontier.popLast() {
      for (pid, ppid) in parentOf where ppid == parent && !found.contains(pid) {
        found.append(pid)
        frontier.append(pid)
      }
    }
    return found
  }

  /// `pid` exists and is not a zombie (a zombie writes nothing more).
  static func isRunning(_ pid: Int32) -> Bool {
    guard let state = statFields(pid).first else { return false }
    return state != "Z"
  }

  /// The fields of /proc/`pid`/stat after the command name (state, ppid, ...); none when
  /// the process is gone.
  static func statFields(_ pid: Int32) -> [Substring] {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return [] }
    return stat[stat.index(after: close)...].split(separator: " ")
  }

  private static func terminate(signal number: Int32) -> Never {
    renames.lock()  // let a rename sequence in progress finish; never released
    lock.lock()
    let pending = entries.map(\.entry)
    // End the tools and everything they started (g++ runs cc1plus and as, and
    // `as` would otherwise go on to write its object file after the cleanup
    // below). SIGKILL: nothing they hold is kept, and they must not write again.
    var victims: [Int32] = []
    for case .child(let pid) in pending { victims += [pid] + descendants(of: pid) }
    for pid in victims { kill(pid, SIGKILL) }
    // A killed process may still finish the write it is in (a loaded machine schedules it late):
    // wait until every victim is gone or a zombie, up to two seconds.
    for _ in 0..<200 where victims.contains(where: isRunning) { usleep(10_000) }
    for case .path(let path) in pending.reversed() {
      // Rename first, so nothing can still appear under the registered name.
      let doomed = path + ".interrupted-\(getpid())"
      let target = rename(path, doomed) == 0 ? doomed : path
      // A file that appeared during the walk makes the removal fail: walk again.
      for _ in 0..<20 where FileManager.default.fileExists(atPath: target) {
        if (try? FileManager.default.removeItem(atPath: target)) == nil { usleep(50_000) }
      }
    }
    let name = number == SIGINT ? "interrupted" : "terminated by signal \(number)"
    FileHandle.standardError.write(Data("hwgen: \(name); temporary files removed\n".utf8))
    _exit(128 + number)
  }
}
