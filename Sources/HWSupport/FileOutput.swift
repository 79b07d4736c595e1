import Foundation

public struct FileOutputError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Writes a set of files into `directory` all-or-nothing: everything is first
/// written into a temporary sibling directory, then each file is renamed into
/// place. A failure leaves the destination as it was.
public enum FileOutput {
  public static func writeAtomically(_ files: [(name: String, contents: String)], into directory: URL) throws {
    let fm = FileManager.default
    let parent = directory.deletingLastPathComponent()
    var isDir: ObjCBool = false
    if fm.fileExists(atPath: directory.path, isDirectory: &isDir), !isDir.boolValue {
      throw FileOutputError("cannot write to \(directory.path): it exists and is not a directory")
    }
    let creatingDirectory = !fm.fileExists(atPath: directory.path)
    let staging = parent.appendingPathComponent(".\(directory.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    do {
      try fm.createDirectory(at: staging, withIntermediateDirectories: true)
    } catch {
      throw FileOutputError("cannot write to \(directory.path): \(reason(error))")
    }
    let tracked = Interrupts.removeOnInterrupt(staging)
    defer {
      try? fm.removeItem(at: staging)
      tracked.release()
    }
    do {
      for file in files {
        try Data(file.contents.utf8).write(to: staging.appendingPathComponent(file.name))
      }
      if creatingDirectory {
        try Interrupts.uninterrupted { try fm.moveItem(at: staging, to: directory) }
        return
      }
      guard access(directory.path, W_OK) == 0 else {
        throw FileOutputError("cannot write to \(directory.path): permission denied")
      }
      // An interrupt waits for the renames: the directory never holds half an update.
      try Interrupts.uninterrupted {
        for file in files {
          let source = staging.appendingPathComponent(file.name)
          let target = directory.appendingPathComponent(file.name)
          if rename(source.path, target.path) != 0 {
            throw FileOutputError("cannot write \(target.path): \(String(cString: strerror(errno)))")
          }
        }
      }
    } catch let error as FileOutputError {
      throw error
    } catch {
      throw FileOutputError("cannot write to \(directory.path): \(reason(error))")
    }
  }

  /// Writes one file through a temporary file and a rename.
  public static func writeAtomically(_ contents: Data, to file: URL) throws {
    let temp = file.deletingLastPathComponent()
      .appendingPathComponent(".\(file.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    let tracked = Interrupts.removeOnInterrupt(temp)
    defer { tracked.release() }
    do {
      try contents.write(to: temp)
    } catch {
      throw FileOutputError("cannot write \(file.path): \(reason(error))")
    }
    if Interrupts.uninterrupted({ rename(temp.path, file.path) }) != 0 {
      let message = String(cString: strerror(errno))
      try? FileManager.default.removeItem(at: temp)
      throw FileOutputError("cannot write \(file.path): \(message)")
    }
  }

  /// Writes several files, each through a temporary file in its own
  /// directory; the renames happen only once every temporary is written, so
  /// a failed write leaves none of them changed.
  public static func writeAtomically(_ files: [(file: URL, contents: Data)]) throws {
    var temps: [(temp: URL, file: URL, tracked: Interrupts.Registration)] = []
    defer {
      for t in temps {
        try? FileManager.default.removeItem(at: t.temp)
        t.tracked.release()
      }
    }
    for (file, contents) in files {
      let temp = file.deletingLastPathComponent()
        .appendingPathComponent(".\(file.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
      temps.append((temp, file, Interrupts.removeOnInterrupt(temp)))
      do {
        try contents.write(to: temp)
      } catch {
        throw FileOutputError("cannot write \(file.path): \(reason(error))")
      }
    }
    for t in temps where Interrupts.uninterrupted({ rename(t.temp.path, t.file.path) }) != 0 {
      throw FileOutputError("cannot write \(t.file.path): \(String(cString: strerror(errno)))")
    }
  }

  static func reason(_ error: Error) -> String {
    let ns = error as NSError
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
      return String(cString: strerror(Int32(underlying.code)))
    }
    if ns.domain == NSCocoaErrorDomain {
      switch ns.code {
      case NSFileWriteNoPermissionError: return "permission denied"
      case NSFileWriteOutOfSpaceError: return "no space left on device"
      case NSFileWriteVolumeReadOnlyError: return "read-only file system"
      default: break
      }
    }
    return ns.localizedDescription
  }
}
