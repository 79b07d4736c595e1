import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An exclusive lock, shared by every hwgen process on the machine, for a read-modify-write of one
/// file. The lock is `flock` on a file in the temporary directory named by the SHA-256 of the
/// target's resolved path, so the target's folder (often `RTL/`) gets nothing beside it.
public enum FileLock {
  /// Runs `body` holding the lock for `file`; waits while another process or thread holds it.
  public static func exclusively<T>(for file: URL, _ body: () throws -> T) throws -> T {
    let path = file.standardizedFileURL.resolvingSymlinksInPath().path
    let lock = FileManager.default.temporaryDirectory
      .appendingPathComponent("hwgen-lock-\(SHA256.hex(path).prefix(24))").path
    let fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw FileOutputError("cannot lock \(file.path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    while flock(fd, LOCK_EX) != 0 {
      guard errno == EINTR else {
        throw FileOutputError("cannot lock \(file.path): \(String(cString: strerror(errno)))")
      }
    }
    defer { flock(fd, LOCK_UN) }
    return try body()
  }
}
