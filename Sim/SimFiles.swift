import Foundation

/// The files in the top-level `Sim/` folder, shipped as resources of this target:
/// `verilator/` (the C++ shim compiled into every Verilated model) and `icarus/` (the
/// Icarus Verilog bench templates). SwiftPM does not compile them; the Verilator bridge
/// and the Icarus bench read them at run time.
public enum SimFiles {
  /// The folder of one kind of file, `verilator` or `icarus`.
  public static func directory(_ name: String) -> URL? {
    Bundle.module.url(forResource: name, withExtension: nil)
  }

  /// The bytes of `file` in the folder `name`, e.g. `("verilator", "hw_shim.cpp")`.
  public static func data(_ name: String, _ file: String) throws -> Data {
    guard let directory = directory(name) else {
      throw SimFilesError("the Sim/\(name) resources are missing from the hwgen bundle")
    }
    let url = directory.appendingPathComponent(file)
    do {
      return try Data(contentsOf: url)
    } catch {
      throw SimFilesError("cannot read \(url.path): \(error.localizedDescription)")
    }
  }

  /// `data` as UTF-8 text.
  public static func text(_ name: String, _ file: String) throws -> String {
    String(decoding: try data(name, file), as: UTF8.self)
  }
}

public struct SimFilesError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
