import Foundation
import HWSupport

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why a checkpoint or a model directory cannot be used: one line naming the
/// file and, where there is one, the tensor.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
  public let description: String

  public init(_ description: String) {
    // One line, whatever a parser's message held.
    self.description = description.split(whereSeparator: \.isNewline).joined(separator: " ")
  }

  /// "FILE: tensor NAME: message" (the tensor part only when there is one).
  public init(file: String, tensor: String? = nil, _ message: String) {
    self.init("\(file): \(tensor.map { "tensor \($0): " } ?? "")\(message)")
  }
}

/// A file mapped read-only into memory (`mmap`): its pages are read from the
/// page cache on demand and can be dropped again (`release`), so a tensor
/// costs memory only while it is converted.
public final class MappedFile: @unchecked Sendable {
  public let url: URL
  /// What error messages call the file.
  public let displayName: String
  public let size: Int
  private let base: UnsafeRawPointer?

  public init(_ url: URL, displayName: String? = nil) throws {
    self.url = url
    let name = displayName ?? url.path
    self.displayName = name
    let fd = open(url.path, O_RDONLY)
    guard fd >= 0 else { throw CheckpointError(file: name, "cannot open: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw CheckpointError(file: name, "cannot stat: \(String(cString: strerror(errno)))") }
    guard (info.st_mode & S_IFMT) == S_IFREG else { throw CheckpointError(file: name, "not a regular file") }
    size = Int(info.st_size)
    if size == 0 {
      base = nil
      return
    }
    guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
      throw CheckpointError(file: name, "cannot map: \(String(cString: strerror(errno)))")
    }
    base = UnsafeRawPointer(p)
  }

  deinit {
    if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
  }

  /// The bytes `range` (which must lie inside the file).
  public func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
    precondition(range.lowerBound >= 0 && range.upperBound <= size, "byte range \(range) outside \(displayName) (\(size) bytes)")
    guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
  }

  /// Lets the kernel drop the mapped pages of `range` (they are read again if touched).
  public func release(_ range: Range<Int>) {
    guard let base, !range.isEmpty else { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = (range.lowerBound / page) * page
    madvise(UnsafeMutableRawPointer(mutating: base + start), range.upperBound - start, MADV_DONTNEED)
  }

  /// Lower-case hex SHA-256 of the whole file, read in 16 MiB slices, each
  /// released once hashed (so hashing a 5 GB shard does not keep 5 GB mapped in).
  public func sha256() -> String {
    var hasher = SHA256()
    let slice = 16 << 20
    for start in stride(from: 0, to: size, by: slice) {
      let range = start..<min(size, start + slice)
      hasher.update(bytes(range))
      release(range)
    }
    return hasher.hexDigest()
  }
}

/// A tensor's element type as safetensors names it. Every type of the format
/// is known (so offsets can be checked); `BF16`, `F16` and `F32` can be read.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
  case bool = "BOOL", u8 = "U8", i8 = "I8", f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3"
  case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
  case i32 = "I32", u32 = "U32", f32 = "F32"
  case i64 = "I64", u64 = "U64", f64 = "F64"

  public var byteSize: Int {
    switch self {
    case .bool, .u8, .i8, .f8e5m2, .f8e4m3: return 1
    case .i16, .u16, .f16, .bf16: return 2
    case .i32, .u32, .f32: return 4
    case .i64, .u64, .f64: return 8
    }
  }

  /// The types whose values convert to Float32 exactly.
  public static let readable: [SafeTensorsDType] = [.bf16, .f16, .f32]
}

/// One entry of a safetensors header.
public struct SafeTensorInfo: Hashable, Sendable {
  public let name: String
  public let dtype: SafeTensorsDType
  public let shape: [Int]
  /// Byte range of the data in the file (header included in the offset).
  public let bytes: Range<Int>

  public var count: Int { shape.reduce(1, *) }
  public var shapeText: String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}

/// A safetensors file (huggingface/safetensors): an 8-byte little-endian
/// header length N, N bytes of JSON header mapping each tensor name to
/// `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the
/// data after the header) plus an optional `__metadata__` string map, then the
/// data. Nothing is trusted: the header must fit in the file, be a JSON object
/// of well-formed entries with known dtypes, and the entries' byte ranges must
/// match dtype x shape and tile the data exactly -- no overlap, no gap, nothing
/// after the last tensor (the format's own rule). Values are read on demand
/// from the mapped file.
public final class SafeTensorsFile: @unchecked Sendable {
  public let file: MappedFile
  /// Every tensor, sorted by name.
  public let tensors: [SafeTensorInfo]
  public let metadata: [String: String]
  private let index: [String: Int]

  /// The format's limit on the header (the reference reader refuses larger ones).
  public static let maxHeaderBytes = 100_000_000

  public var displayName: String { file.displayName }

  public convenience init(_ url: URL, displayName: String? = nil) throws {
    try self.init(try MappedFile(url, displayName: displayName))
  }

  public init(_ file: MappedFile) throws {
    self.file = file
    let name = file.displayName
    func fail(_ message: String, tensor: String? = nil) -> CheckpointError { CheckpointError(file: name, tensor: tensor, message) }

    guard file.size >= 8 else {
      throw fail("truncated: \(file.size) bytes, but a safetensors file starts with an 8-byte header length")
    }
    let headerLength = file.bytes(0..<8).loadUnaligned(as: UInt64.self).littleEndian
    guard headerLength <= UInt64(file.size - 8) else {
      throw fail("header length \(headerLength) runs past the end of the file (\(file.size) bytes)")
    }
    guard headerLength <= UInt64(Self.maxHeaderBytes) else {
      throw fail("header length \(headerLength) exceeds the format's limit of \(Self.maxHeaderBytes) bytes")
    }
    let dataStart = 8 + Int(headerLength)
    let dataSize = file.size - dataStart
    let headerBytes = Data(file.bytes(8..<dataStart))
    guard headerBytes.first == UInt8(ascii: "{") else { throw fail("malformed JSON header: it does not start with '{'") }
    let json: Any
    do {
      json = try JSONSerialization.jsonObject(with: headerBytes)
    } catch {
      throw fail("malformed JSON header: \((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)")")
    }
    guard let header = json as? [String: Any] else { throw fail("malformed JSON header: not an object") }

    var metadata: [String: String] = [:]
    var tensors: [SafeTensorInfo] = []
    for key in header.keys.sorted() {
      let value = header[key]!
      if key == "__metadata__" {
        guard let map = value as? [String: Any] else { throw fail("malformed JSON header: __metadata__ is not an object") }
        for (k, v) in map {
          guard let text = v as? String else { throw fail("malformed JSON header: __metadata__ value of '\(k)' is not a string") }
          metadata[k] = text
        }
        continue
      }
      guard let entry = value as? [String: Any] else { throw fail("header entry is not an object", tensor: key) }
      let extra = Set(entry.keys).subtracting(["dtype", "shape", "data_offsets"])
      guard extra.isEmpty else { throw fail("unknown header field(s) \(extra.sorted().joined(separator: ", "))", tensor: key) }
      guard let dtypeName = entry["dtype"] as? String else { throw fail("header entry has no dtype string", tensor: key) }
      guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
        throw fail("unknown dtype '\(dtypeName)' (safetensors types: \(SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))", tensor: key)
      }
      guard let shapeValues = entry["shape"] as? [Any] else { throw fail("header entry has no shape array", tensor: key) }
      var shape: [Int] = []
      for v in shapeValues {
        guard let n = JSONScalar.integer(v), n >= 0 else { throw fail("shape \(shapeValues) is not a list of non-negative integers", tensor: key) }
        shape.append(n)
      }
      guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
        let begin = JSONScalar.integer(offsets[0]), let end = JSONScalar.integer(offsets[1])
      else { throw fail("data_offsets is not a pair of integers", tensor: key) }
      guard begin >= 0, begin <= end, end <= dataSize else {
        throw fail("data_offsets [\(begin), \(end)] outside the data section (\(dataSize) bytes after the header)", tensor: key)
      }
      var bytes = dtype.byteSize
      for n in shape {
        let (product, overflow) = bytes.multipliedReportingOverflow(by: n)
        guard !overflow else { throw fail("shape \(shape) is too large", tensor: key) }
        bytes = product
      }
      guard end - begin == bytes else {
        throw fail("data_offsets [\(begin), \(end)] hold \(end - begin) bytes, but \(dtype.rawValue) x \(shape) needs \(bytes)", tensor: key)
      }
      tensors.append(SafeTensorInfo(name: key, dtype: dtype, shape: shape, bytes: (dataStart + begin)..<(dataStart + end)))
    }

    // The byte ranges must tile the data section exactly.
    var position = dataStart
    var previous: String?
    for t in tensors.sorted(by: { ($0.bytes.lowerBound, $0.bytes.upperBound, $0.name) < ($1.bytes.lowerBound, $1.bytes.upperBound, $1.name) }) {
      if t.bytes.lowerBound < position {
        throw fail("data_offsets [\(t.bytes.lowerBound - dataStart), \(t.bytes.upperBound - dataStart)] overlap tensor \(previous!)", tensor: t.name)
      }
      if t.bytes.lowerBound > position {
        throw fail("\(t.bytes.lowerBound - position) bytes of the data section before it belong to no tensor", tensor: t.name)
      }
      position = t.bytes.upperBound
      previous = t.name
    }
    if position != file.size {
      throw fail("\(file.size - position) bytes after the last tensor's data belong to no tensor")
    }

    self.tensors = tensors
    self.metadata = metadata
    self.index = Dictionary(uniqueKeysWithValues: tensors.enumerated().map { ($1.name, $0) })
  }

  public subscript(name: String) -> SafeTensorInfo? { index[name].map { tensors[$0] } }

  // MARK: Values

  /// `count` elements of `tensor` starting at element `start`, converted to
  /// Float32 (exact for BF16, F16 and F32) into `out`. Throws on a dtype that
  /// cannot be read and on a NaN or infinite value (naming its index).
  public func read(_ tensor: SafeTensorInfo, from start: Int, count: Int, into out: UnsafeMutablePointer<Float>) throws {
    precondition(start >= 0 && count >= 0 && start + count <= tensor.count, "elements \(start)..<\(start + count) outside \(tensor.name)")
    let size = tensor.dtype.byteSize
    let raw = file.bytes((tensor.bytes.lowerBound + start * size)..<(tensor.bytes.lowerBound + (start + count) * size))
    switch tensor.dtype {
    case .bf16:
      for k in 0..<count {
        out[k] = Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self))) << 16)
      }
    case .f16:
      for k in 0..<count {
        out[k] = Self.halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self)))
      }
    case .f32:
      for k in 0..<count {
        out[k] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self)))
      }
    default:
      throw CheckpointError(
        file: displayName, tensor: tensor.name,
        "dtype \(tensor.dtype.rawValue) is not supported (\(SafeTensorsDType.readable.map(\.rawValue).joined(separator: ", ")))")
    }
    for k in 0..<count where !out[k].isFinite {
      throw CheckpointError(file: displayName, tensor: tensor.name, "element \(Self.position(start + k, in: tensor.shape)) is \(out[k].isNaN ? "NaN" : "infinite")")
    }
  }

  /// Every element of `tensor` as Float32 (see `read(_:from:count:into:)`).
  public func floats(_ tensor: SafeTensorInfo) throws -> [Float] {
    var values = [Float](repeating: 0, count: tensor.count)
    try values.withUnsafeMutableBufferPointer { try read(tensor, from: 0, count: tensor.count, into: $0.baseAddress!) }
    return values
  }

  /// IEEE binary16 to binary32 (exact).
  public static func halfToFloat(_ h: UInt16) -> Float {
    let sign: UInt32 = UInt32(h & 0x8000) << 16
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    switch exponent {
    case 0:
      let magnitude = Float(mantissa) * 0x1p-24  // zero or subnormal
      return Float(bitPattern: magnitude.bitPattern | sign)
    case 31:
      return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    default:
      return Float(bitPattern: sign | (UInt32(exponent - 15 + 127) << 23) | (mantissa << 13))
    }
  }

  /// "(r, c)" for a flat index into `shape` (row-major).
  static func position(_ flat: Int, in shape: [Int]) -> String {
    var rest = flat
    var coordinates: [Int] = []
    for n in shape.reversed() where n > 0 {
      coordinates.append(rest % n)
      rest /= n
    }
    return "(" + coordinates.reversed().map(String.init).joined(separator: ", ") + ")"
  }
}
