import Foundation

/// A two-dimensional float32 array in NumPy's `.npy` format (version 1.0,
/// little-endian, C order): what `numpy.save` writes for a `float32` matrix
/// and `numpy.load` reads back. Reading also takes `<f8` and `<f2` files
/// (converted to Float32) and one-dimensional arrays (one row).
public struct NumPyArray: Equatable, Sendable {
  public var rows: Int
  public var columns: Int
  /// Row-major, `rows * columns` values.
  public var values: [Float]

  public init(rows: Int, columns: Int, values: [Float]) {
    precondition(rows >= 0 && columns >= 0 && values.count == rows * columns)
    self.rows = rows
    self.columns = columns
    self.values = values
  }

  /// Rows of equal length.
  public init(rows: [[Float]]) {
    let columns = rows.first?.count ?? 0
    precondition(rows.allSatisfy { $0.count == columns })
    self.init(rows: rows.count, columns: columns, values: rows.flatMap { $0 })
  }

  public func row(_ r: Int) -> ArraySlice<Float> { values[(r * columns)..<((r + 1) * columns)] }

  static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

  /// The file's bytes: magic, version 1.0, the header dictionary padded with
  /// spaces to a multiple of 64 bytes (newline last), then the data.
  public func npyData() -> Data {
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
    let unpadded = Self.magic.count + 2 + 2 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var data = Data(Self.magic)
    data.append(contentsOf: [1, 0])
    let length = UInt16(header.utf8.count)
    data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
    data.append(contentsOf: Array(header.utf8))
    values.withUnsafeBufferPointer { buffer in
      for v in buffer {
        let bits = v.bitPattern.littleEndian
        withUnsafeBytes(of: bits) { data.append(contentsOf: $0) }
      }
    }
    return data
  }

  /// Parses `.npy` bytes; `name` goes into the error messages.
  public init(npy data: Data, name: String = "array") throws {
    func fail(_ why: String) -> NumPyError { NumPyError("\(name): \(why)") }
    let bytes = [UInt8](data)
    guard bytes.count >= 10, Array(bytes[0..<6]) == Self.magic else { throw fail("not a NumPy .npy file (no \\x93NUMPY magic)") }
    let major = bytes[6]
    let headerLength: Int, headerStart: Int
    switch major {
    case 1:
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      headerStart = 10
    case 2, 3:
      guard bytes.count >= 12 else { throw fail("truncated header") }
      headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
      headerStart = 12
    default: throw fail("unsupported .npy version \(major)")
    }
    guard headerStart + headerLength <= bytes.count,
      let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: .utf8)
    else { throw fail("truncated or non-UTF-8 header") }
    func field(_ key: String) -> String? {
      guard let k = header.range(of: "'\(key)':") else { return nil }
      return String(header[k.upperBound...]).trimmingCharacters(in: .whitespaces)
    }
    guard let descrField = field("descr"), descrField.hasPrefix("'"),
      let descr = descrField.dropFirst().split(separator: "'", maxSplits: 1).first.map(String.init)
    else { throw fail("header has no 'descr'") }
    let width: Int
    switch descr {
    case "<f4": width = 4
    case "<f8": width = 8
    case "<f2": width = 2
    default: throw fail("dtype \(descr) is not supported; save the array as float32 (<f4), float64 or float16")
    }
    if let order = field("fortran_order"), order.hasPrefix("True") {
      throw fail("Fortran-order arrays are not supported; save with numpy.ascontiguousarray")
    }
    guard let shapeField = field("shape"), shapeField.hasPrefix("("), let close = shapeField.firstIndex(of: ")") else {
      throw fail("header has no 'shape'")
    }
    let dims = try shapeField[shapeField.index(after: shapeField.startIndex)..<close]
      .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
      .map { part -> Int in
        guard let v = Int(part), v >= 0 else { throw fail("bad shape entry '\(part)'") }
        return v
      }
    let (r, c): (Int, Int)
    switch dims.count {
    case 1: (r, c) = (1, dims[0])
    case 2: (r, c) = (dims[0], dims[1])
    default: throw fail("expected a 2-D array (positions x vocabulary), got shape \(dims)")
    }
    let (count, overflow) = r.multipliedReportingOverflow(by: c)
    let dataStart = headerStart + headerLength
    guard !overflow, count <= (bytes.count - dataStart) / width, bytes.count - dataStart == count * width else {
      throw fail("data holds \(bytes.count - dataStart) bytes, shape (\(r), \(c)) of \(descr) needs \(overflow ? "more" : String(count * width))")
    }
    var values = [Float](repeating: 0, count: count)
    for i in 0..<count {
      let o = dataStart + i * width
      switch width {
      case 4:
        let bits = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[o + $1]) << (8 * UInt32($1)) }
        values[i] = Float(bitPattern: bits)
      case 8:
        let bits = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[o + $1]) << (8 * UInt64($1)) }
        values[i] = Float(Double(bitPattern: bits))
      default:
        values[i] = Float(Float16(bitPattern: UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8))
      }
    }
    self.init(rows: r, columns: c, values: values)
  }

  public init(contentsOf file: URL) throws {
    let data: Data
    do { data = try Data(contentsOf: file) } catch { throw NumPyError("\(file.path): cannot be read") }
    try self.init(npy: data, name: file.path)
  }

  /// Writes the array atomically (temporary file, then rename).
  public func write(to file: URL) throws {
    try FileOutput.writeAtomically(npyData(), to: file)
  }
}

/// A `.npy` file that cannot be used: one line naming the file.
public struct NumPyError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
