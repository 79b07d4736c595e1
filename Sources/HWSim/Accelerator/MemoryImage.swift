import Foundation
import HWGolden
import HWSpec
import HWSupport

/// The off-chip memory the accelerator expects, byte for byte: each memory
/// port's address space (`AcceleratorConfig.memoryPorts`) from address 0, laid
/// out by the program's memory map (docs/accelerator.md, "Memory map").
///
/// - Every port, from address 0: its slice of each matrix beat at the
///   matrix's address. As planes, port p's beat i holds core lanes
///   `p*lanes/ports ..<` of weight beat i, each lane's (non-zero, negative)
///   64-bit word pair, little-endian; in base 3, bytes `[p*P, (p+1)*P)` of
///   memory beat i of the matrix's trit stream (`TritPacking`).
/// - After the matrices: the vectors (gammas, lower bounds) in Q15.16,
///   little-endian, each dealt out over the ports in stripes
///   (`AcceleratorConfig.vectorStripeBytes`); then in port 0 the embedding; in
///   port 0 last the program (16 bytes an instruction, bit 0 first, on a
///   page), which the accelerator's program loader reads (PROG_BASE, PROG_COUNT,
///   CTRL.LOAD).
///
/// `hwgen image` writes it (the ports one after the other, then a JSON map of
/// the regions), and `AcceleratorSimulation` serves every read from exactly
/// these bytes.
public struct AcceleratorMemoryImage: Sendable {
  public let config: AcceleratorConfig
  public let model: ModelConfig
  /// Each port's bytes from address 0 (a whole number of 4 KiB pages).
  public let ports: [[UInt8]]
  public let regions: [Region]
  /// Where the program starts in port 0, and how many instructions it has.
  public let programAddress: Int
  public let programInstructions: Int

  /// One region of the map.
  public struct Region: Codable, Hashable, Sendable {
    /// `embedding`, `layer3.attn_norm`, `layer0.f` (a matrix), `lm_head`, `program`, ...
    public var name: String
    /// `embedding`, `vector`, `matrix` or `program`.
    public var kind: String
    /// The port it lives in; nil for a matrix striped over every port; for a vector, the
    /// port of its first stripe.
    public var port: Int?
    public var address: Int
    /// Bytes in each port it spans; a vector's whole size.
    public var bytes: Int
    /// A vector's stripes: stripe s in port (port + s) mod ports, at address + stripeBytes
    /// times the number of times (port + s) wrapped (`AcceleratorProgram.Segment.stripes`).
    public var stripeBytes: Int?
  }

  public init(program: AcceleratorProgram, weights: FixedPointWeights) {
    let config = program.config
    self.config = config
    model = program.model
    let portCount = config.memoryPorts
    let page = AcceleratorProgram.segmentAlignment
    func pages(_ n: Int) -> Int { (n + page - 1) / page * page }
    func end(of port: Int) -> Int {
      program.segments.filter { $0.striped || $0.stripeBytes > 0 || $0.port == port }.map { $0.address + $0.span }.max() ?? 0
    }
    let programAddress = pages(end(of: 0))
    self.programAddress = programAddress
    programInstructions = program.instructions.count
    // Every port its slices of the matrices and its vectors; port 0 the embedding and the program too.
    var ports = (0..<portCount).map { p in
      [UInt8](repeating: 0, count: p == 0 ? pages(programAddress + 16 * program.instructions.count) : pages(end(of: p)))
    }
    var regions: [Region] = []
    let lanesPerPort = config.lanes / portCount
    for segment in program.segments {
      switch segment.data {
      case .embedding:
        Self.store(weights.embedding, in: &ports[0], at: segment.address)
        regions.append(Region(name: "embedding", kind: "embedding", port: 0, address: segment.address, bytes: segment.span))
      case .vector(let v):
        let values = weights.vector(v)
        var next = 0
        for stripe in segment.stripes(ports: portCount) {
          let count = stripe.bytes / 4
          Self.store(Array(values[next..<next + count]), in: &ports[stripe.port], at: stripe.address)
          next += count
        }
        regions.append(
          Region(
            name: v.regionName, kind: "vector", port: segment.port, address: segment.address, bytes: segment.bytes,
            stripeBytes: segment.stripeBytes))
      case .matrix(let layer, let p):
        let m = layer.map { weights.layers[$0].projection(p).weight } ?? weights.lmHead.weight
        let groups = (m.rows + config.lanes - 1) / config.lanes
        if config.weightPacking == .base3 {
          Self.storeBase3(m, config: config, in: &ports, at: segment.address)
        } else {
        m.planes.withUnsafeBufferPointer { planes in
          for port in 0..<portCount {
            ports[port].withUnsafeMutableBytes { bytes in
              let words = bytes.baseAddress!.advanced(by: segment.address).assumingMemoryBound(to: UInt64.self)
              var w = 0
              for group in 0..<groups {
                for chunk in 0..<m.wordsPerRow {
                  for r in 0..<lanesPerPort {
                    let row = group * config.lanes + port * lanesPerPort + r
                    if row < m.rows {
                      let at = 2 * (row * m.wordsPerRow + chunk)
                      words[w] = planes[at].littleEndian
                      words[w + 1] = planes[at + 1].littleEndian
                    }
                    w += 2
                  }
                }
              }
            }
          }
        }
        }
        let name = layer.map { "layer\($0).\(p.rawValue)" } ?? "lm_head"
        regions.append(Region(name: name, kind: "matrix", port: nil, address: segment.address, bytes: segment.span))
      }
    }
    var words: [UInt32] = []
    words.reserveCapacity(4 * program.instructions.count)
    for instruction in program.instructions { words += instruction.words }
    ports[0].withUnsafeMutableBytes { bytes in
      for (i, word) in words.enumerated() { bytes.storeBytes(of: word.littleEndian, toByteOffset: programAddress + 4 * i, as: UInt32.self) }
    }
    regions.append(
      Region(name: "program", kind: "program", port: 0, address: programAddress, bytes: 16 * program.instructions.count))
    self.ports = ports
    self.regions = regions.sorted { ($0.address, $0.port ?? -1) < ($1.address, $1.port ?? -1) }
  }

  /// The program for `weights` (its first `layers` blocks; with debug
  /// checkpoints or without) and its image: what `hwgen image` writes and
  /// what `AcceleratorSimulation` serves.
  public static func build(
    model: ModelConfig, weights: FixedPointWeights, config: AcceleratorConfig, layers: Int? = nil, checkpoints: Bool
  ) throws -> (program: AcceleratorProgram, image: AcceleratorMemoryImage) {
    let program = try AcceleratorProgram(
      model: model, config: config,
      betas: { layer, p in layer.map { weights.layers[$0].projection(p).beta } ?? weights.lmHead.beta },
      layers: layers, checkpoints: checkpoints)
    return (program, AcceleratorMemoryImage(program: program, weights: weights))
  }

  /// A matrix's base-3 bytes (`TritPacking`): its trit stream in core-beat order, memory
  /// beat f's port p slice at `address + f * P` in port p.
  static func storeBase3(_ m: PackedTernary, config: AcceleratorConfig, in ports: inout [[UInt8]], at address: Int) {
    let lanes = config.lanes, chunks = m.wordsPerRow, groups = (m.rows + lanes - 1) / lanes
    let beatBytes = config.weightBeatBytes, portBytes = config.memoryDataBytes
    var byteIndex = 0, digits = 0, value = 0
    func emit() {
      let beat = byteIndex / beatBytes, offset = byteIndex % beatBytes
      ports[offset / portBytes][address + beat * portBytes + offset % portBytes] = UInt8(value)
      byteIndex += 1
      digits = 0
      value = 0
    }
    m.planes.withUnsafeBufferPointer { planes in
      for group in 0..<groups {
        for chunk in 0..<chunks {
          for lane in 0..<lanes {
            let row = group * lanes + lane
            let (nonZero, negative) = row < m.rows ? (planes[2 * (row * chunks + chunk)], planes[2 * (row * chunks + chunk) + 1]) : (0, 0)
            for j in 0..<64 {
              let bit = UInt64(j)
              value += TritPacking.digit(nonZero: nonZero >> bit & 1 == 1, negative: negative >> bit & 1 == 1)
                * TritPacking.placeValues[digits]
              digits += 1
              if digits == TritPacking.tritsPerByte { emit() }
            }
          }
        }
      }
    }
    if digits > 0 { emit() }
  }

  /// Q15.16 values, little-endian, at `address`.
  static func store(_ values: [Int32], in port: inout [UInt8], at address: Int) {
    port.withUnsafeMutableBytes { bytes in
      for (i, v) in values.enumerated() { bytes.storeBytes(of: v.littleEndian, toByteOffset: address + 4 * i, as: Int32.self) }
    }
  }

  /// The program as the host loads it: instruction i from port 0's program region.
  public var programWords: [[UInt32]] {
    ports[0].withUnsafeBytes { bytes in
      (0..<programInstructions).map { i in
        (0..<4).map { UInt32(littleEndian: bytes.load(fromByteOffset: programAddress + 16 * i + 4 * $0, as: UInt32.self)) }
      }
    }
  }

  /// The map `hwgen image` writes next to the bytes.
  public struct Map: Codable, Sendable {
    public var format = "hwgen-memory-image/1"
    public var model: String
    public var lanes: Int
    public var memoryPorts: Int
    public var memoryDataBits: Int
    /// `planes` (2 bits a weight) or `base3` (five weights a byte, `TritPacking`).
    public var weightPacking: String
    public var device: String
    /// The device's memory channels: port p sits on channel p % channels.
    public var channels: Int
    /// Each port's image: byte offset in the file, bytes.
    public var ports: [PortEntry]
    public var regions: [Region]
    /// SHA-256 of the whole file.
    public var sha256: String

    public struct PortEntry: Codable, Sendable {
      public var port: Int
      public var channel: Int
      public var offset: Int
      public var bytes: Int
    }
  }

  /// The file's bytes (the ports in order) and its map.
  public func serialized(device: DeviceProfile) -> (bytes: Data, map: Data) {
    var file = Data()
    file.reserveCapacity(ports.reduce(0) { $0 + $1.count })
    var entries: [Map.PortEntry] = []
    for (p, bytes) in ports.enumerated() {
      entries.append(Map.PortEntry(port: p, channel: p % device.memory.channels, offset: file.count, bytes: bytes.count))
      file.append(contentsOf: bytes)
    }
    var hash = SHA256()
    file.withUnsafeBytes { hash.update($0) }
    let map = Map(
      model: model.name, lanes: config.lanes, memoryPorts: config.memoryPorts, memoryDataBits: config.memoryDataBits,
      weightPacking: config.weightPacking.rawValue, device: device.name, channels: device.memory.channels, ports: entries, regions: regions,
      sha256: hash.hexDigest())
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    // A Codable struct always encodes.
    return (file, (try! encoder.encode(map)) + Data("\n".utf8))
  }
}

extension AcceleratorProgram.Vector {
  /// The vector's name in the image map.
  var regionName: String {
    switch self {
    case .attnNorm(let l): return "layer\(l).attn_norm"
    case .gNorm(let l): return "layer\(l).g_norm"
    case .mlpNorm(let l): return "layer\(l).mlp_norm"
    case .lowerBound(let l): return "layer\(l).lower_bound"
    case .projectionGamma(let l, let p): return "layer\(l).\(p.rawValue).gamma"
    case .finalNorm: return "final_norm"
    case .lmHeadGamma: return "lm_head.gamma"
    }
  }
}
