import Foundation
import HWGolden
import HWSim
import HWSpec
import HWSupport
import Testing

/// `hwgen image`: the file is the simulation's memory, byte for byte, laid out
/// as docs/accelerator.md says (checked here from the weights, not from the
/// writer's code), deterministic, and all or nothing on bad input.
@Suite struct MemoryImageTests {
  struct Map: Decodable {
    struct Port: Decodable { let port, channel, offset, bytes: Int }
    struct Region: Decodable {
      let name, kind: String
      let port: Int?
      let address, bytes: Int
      let stripeBytes: Int?
    }
    let format, model, device, sha256: String
    let weightPacking: String
    let lanes, memoryPorts, memoryDataBits, channels: Int
    let ports: [Port]
    let regions: [Region]
  }

  static func image(_ arguments: [String]) throws -> (bytes: [UInt8], map: Map, output: String) {
    let file = temporaryDirectory().appendingPathComponent("model.img")
    let result = try HWGenProcess.run(["image"] + arguments + ["--out", file.path])
    #expect(result.succeeded, "\(result.output)")
    let bytes = [UInt8](try Data(contentsOf: file))
    let map = try JSONDecoder().decode(Map.self, from: Data(contentsOf: URL(fileURLWithPath: file.path + ".json")))
    return (bytes, map, result.output)
  }

  @Test("base-3 images: each matrix is its weights in core-beat order, five a byte, port p holding bytes [p*P, (p+1)*P) of every memory beat",
        arguments: [2, 16])
  func base3Matrices(lanes: Int) throws {
    let (bytes, map, output) = try Self.image(["--model", "tiny", "--seed", "4", "--lanes", "\(lanes)", "--packing", "base3"])
    #expect(map.weightPacking == "base3" && output.contains("base3 weights"))
    let weights = FixedPointWeights(ModelWeights.synthetic(.tiny, seed: 4))
    let config = AcceleratorConfig(lanes: lanes, weightPacking: .base3)
    let (_, image) = try AcceleratorMemoryImage.build(model: .tiny, weights: weights, config: config, checkpoints: false)
    for entry in map.ports {
      #expect(Array(bytes[entry.offset..<entry.offset + entry.bytes]) == image.ports[entry.port], "port \(entry.port)")
    }
    let portBytes = config.memoryDataBits / 8, ports = config.memoryPorts
    for name in ["layer0.f", "layer1.down", "lm_head"] {
      let region = try #require(map.regions.first { $0.name == name })
      let m = name == "lm_head" ? weights.lmHead.weight : name == "layer0.f" ? weights.layers[0].f.weight : weights.layers[1].down.weight
      let coreBeats = (m.rows + lanes - 1) / lanes * m.wordsPerRow
      let memoryBeats = (coreBeats * 4 + 4) / 5
      #expect(region.bytes == memoryBeats * portBytes, "\(name)")
      // The stream: memory beat f is port 0's P bytes, then port 1's, ...
      var stream: [UInt8] = []
      for f in 0..<memoryBeats {
        for p in 0..<ports {
          let at = map.ports[p].offset + region.address + f * portBytes
          stream += bytes[at..<at + portBytes]
        }
      }
      let trits = try stream.flatMap { try #require(TritPacking.unpack($0), "\(name): a reserved byte") }
      var t = 0
      for group in 0..<(m.rows + lanes - 1) / lanes {
        for chunk in 0..<m.wordsPerRow {
          for lane in 0..<lanes {
            let row = group * lanes + lane
            for j in 0..<64 {
              let column = 64 * chunk + j
              let expected: Int8 = row < m.rows && column < m.cols ? m[row, column] : 0
              if trits[t] != expected {
                Issue.record("\(name): weight (\(row), \(column)) is \(trits[t]) in the image, \(expected) in the model")
                return
              }
              t += 1
            }
          }
        }
      }
      #expect(trits[t...].allSatisfy { $0 == 0 }, "\(name): the padding is zeros")
    }
  }

  @Test("the file is the simulation's image: every port, the program with checkpoints, at the map's offsets",
        arguments: [16, 8, 128])
  func fileIsTheSimulationsImage(lanes: Int) throws {
    let (bytes, map, _) = try Self.image(["--model", "tiny", "--seed", "3", "--lanes", "\(lanes)", "--checkpoints"])
    let weights = FixedPointWeights(ModelWeights.synthetic(.tiny, seed: 3))
    let config = AcceleratorConfig(lanes: lanes)
    let (program, image) = try AcceleratorMemoryImage.build(
      model: .tiny, weights: weights, config: config, checkpoints: true)
    #expect(map.format == "hwgen-memory-image/1" && map.lanes == lanes && map.memoryPorts == config.memoryPorts)
    #expect(map.ports.map(\.bytes) == image.ports.map(\.count))
    #expect(map.ports.map(\.channel) == (0..<config.memoryPorts).map { $0 % 4 }, "the D5005 has four DDR4 channels")
    for entry in map.ports {
      #expect(Array(bytes[entry.offset..<entry.offset + entry.bytes]) == image.ports[entry.port], "port \(entry.port)")
    }
    #expect(bytes.count == map.ports.reduce(0) { $0 + $1.bytes })
    var hash = SHA256()
    hash.update(bytes)
    #expect(map.sha256 == hash.hexDigest())

    // Matrices from the weights: port p's beat i = lanes p*L/P ..< of core beat i, a word pair a lane.
    let ports = config.memoryPorts, lanesPerPort = lanes / ports
    func word(_ port: Int, _ address: Int) -> UInt64 {
      let at = map.ports[port].offset + address
      return (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * $1) }
    }
    for layer in [0, 1] {
      let region = try #require(map.regions.first { $0.name == "layer\(layer).down" })
      #expect(region.kind == "matrix" && region.port == nil)
      let m = weights.layers[layer].down.weight
      #expect(region.bytes == (m.rows + lanes - 1) / lanes * m.wordsPerRow * 16 * lanesPerPort)
      let beats = region.bytes / (16 * lanesPerPort)
      for beat in [0, 1, beats - 1] {
        let (group, chunk) = beat.quotientAndRemainder(dividingBy: m.wordsPerRow)
        for port in [0, ports - 1] {
          for r in 0..<lanesPerPort {
            let row = group * lanes + port * lanesPerPort + r
            let address = region.address + beat * 16 * lanesPerPort + 16 * r
            let expected = row < m.rows ? (m.planes[2 * (row * m.wordsPerRow + chunk)], m.planes[2 * (row * m.wordsPerRow + chunk) + 1]) : (0, 0)
            #expect(word(port, address) == expected.0 && word(port, address + 8) == expected.1,
                    "layer \(layer) beat \(beat) port \(port) lane \(r)")
          }
        }
      }
    }
    // The embedding in port 0, the vectors dealt out over the ports; Q15.16 little-endian.
    let embedding = try #require(map.regions.first { $0.name == "embedding" })
    #expect(embedding.port == 0 && embedding.bytes == 4 * weights.embedding.count)
    for k in [0, 1, weights.embedding.count - 1] {
      let at = embedding.address + 4 * k
      let value = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[map.ports[0].offset + at + $1]) << (8 * $1) }
      #expect(Int32(bitPattern: value) == weights.embedding[k])
    }
    // A vector's stripes, by the map's rule: stripe s in port (port + s) mod ports, one stripe
    // further in each time the port number wraps.
    func pieces(_ region: Map.Region) -> [(port: Int, address: Int, bytes: Int)] {
      guard let stripe = region.stripeBytes, let first = region.port else { return [] }
      return stride(from: 0, to: region.bytes, by: stripe).enumerated().map { s, offset in
        ((first + s) % ports, region.address + (first + s) / ports * stripe, min(stripe, region.bytes - offset))
      }
    }
    let gamma = try #require(map.regions.first { $0.name == "layer1.gate.gamma" })
    #expect(gamma.bytes == 4 * weights.layers[1].gate.gamma.count)
    let stripe = try #require(gamma.stripeBytes)
    let count = weights.layers[1].gate.gamma.count
    for k in Set([0, stripe / 4, 2 * stripe / 4, count - 1]).sorted() where k < count {
      let piece = pieces(gamma)[4 * k / stripe]
      let at = map.ports[piece.port].offset + piece.address + 4 * k % stripe
      let value = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * $1) }
      #expect(Int32(bitPattern: value) == weights.layers[1].gate.gamma[k], "element \(k)")
    }
    // Every port carries the vectors' stripes, evenly.
    let vectors = map.regions.filter { $0.kind == "vector" }
    var stripesPerPort = [Int](repeating: 0, count: ports)
    for v in vectors { for piece in pieces(v) { stripesPerPort[piece.port] += 1 } }
    #expect(stripesPerPort.max()! - stripesPerPort.min()! <= 1, "stripes per port \(stripesPerPort)")
    // The program, as the simulation loads it.
    let code = try #require(map.regions.first { $0.name == "program" })
    #expect(code.bytes == 16 * program.instructions.count)
    #expect(image.programWords == program.instructions.map(\.words))
    // What lies in one port's space does not overlap.
    for port in 0..<ports {
      let whole = map.regions.filter { $0.kind != "vector" && ($0.port == nil || $0.port == port) }
        .map { (name: $0.name, address: $0.address, bytes: $0.bytes) }
      let striped = vectors.flatMap { v in pieces(v).filter { $0.port == port }.map { (name: v.name, $0.address, $0.bytes) } }
      let mine = (whole + striped).sorted { $0.address < $1.address }
      for (a, b) in zip(mine, mine.dropFirst()) { #expect(a.address + a.bytes <= b.address, "\(a.name), \(b.name)") }
    }
  }

  @Test func theSameInputsWriteTheSameBytes() throws {
    let a = try Self.image(["--model", "tiny", "--lanes", "8"])
    let b = try Self.image(["--model", "tiny", "--lanes", "8"])
    #expect(a.bytes == b.bytes && a.map.sha256 == b.map.sha256)
    #expect(a.output.contains("2 port(s) of 512 bits on d5005"), "\(a.output)")
  }

  @Test func badInputWritesNothing() throws {
    let dir = temporaryDirectory()
    let file = dir.appendingPathComponent("x.img")
    for arguments in [["--lanes", "3"], ["--lanes", "0"], ["--model", "7b"], ["--device", "nope"]] {
      let result = try HWGenProcess.run(["image", "--model", "tiny"] + arguments + ["--out", file.path])
      #expect(!result.succeeded, "\(arguments)")
      #expect(result.output.split(separator: "\n").filter { $0.hasPrefix("Error:") }.count == 1, "\(arguments): \(result.output)")
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "\(arguments)")
    }
  }
}
