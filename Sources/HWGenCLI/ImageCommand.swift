import ArgumentParser
import Foundation
import HWGenerators
import HWGolden
import HWReport
import HWSim
import HWSpec
import HWSupport

struct Image: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write the off-chip memory image the accelerator reads (program, weights, vectors, embedding) and a JSON map of its regions.",
    discussion: """
      FILE holds every memory port's image, port 0 first; FILE.json gives each port's offset in the file, \
      the regions (each matrix striped over every port, the embedding and program in port 0, the vectors \
      dealt out over the ports; the vector port addresses a port in its high bits) and \
      the file's SHA-256. `hwgen simulate` serves every read from exactly these bytes. Layout: \
      docs/accelerator.md, "Memory map".
      """)

  @Option(help: "Model preset with synthetic weights: tiny, 370m, 1.3b, 2.7b (default: the shipped checkpoint models/kjv-2m).") var model: String?
  @Option(help: "Imported model directory (hwgen import) or a Hugging Face checkpoint directory; wins over --model.") var weights: String?
  @Option(help: "Core lanes: they set the memory ports (weight beat bits / 512) and the matrices' striping.") var lanes: Int = AcceleratorConfig.defaultLanes
  @Option(help: "Device profile: names each port's memory channel in the map (d5005, u280, ...).") var device: String = "d5005"
  @Option(help: "How weights lie in memory: planes (2 bits a weight) or base3 (five a byte, 1.6 bits).")
  var packing: WeightPacking = .planes
  @Option(help: "Streams the accelerator runs side by side: the program serves that many (1-\(AcceleratorConfig.maxStreams)).")
  var streams: Int = 1
  @Option(help: "Seed of the synthetic weights.") var seed: UInt64 = 1
  @Flag(help: "Put the debug checkpoints (CKPT) into the program, as hwgen simulate does to check every layer.")
  var checkpoints = false
  @Option(help: "The image file; the map goes to FILE.json.") var out: String

  func validate() throws {
    guard (1...256).contains(lanes) else { throw ValidationError("lanes must be between 1 and 256, got \(lanes)") }
    try Regress.checkWritable(file: out, option: "out")
    try Regress.checkWritable(file: out + ".json", option: "out")
  }

  func run() throws {
    let watch = Stopwatch()
    let profile = try DeviceProfile.named(device)
    let source = try ModelSource.resolve(
      model: model, weights: weights, seed: seed, defaultCheckpoint: ModelSource.shippedDefault)
    let modelConfig = source.weights.config
    let config = AcceleratorConfig(lanes: lanes, weightPacking: packing, streams: streams)
    let program: AcceleratorProgram, image: AcceleratorMemoryImage
    do {
      try AcceleratorGenerator.validate(config)
      (program, image) = try AcceleratorMemoryImage.build(
        model: modelConfig, weights: FixedPointWeights(source.weights), config: config, checkpoints: checkpoints)
    } catch { throw ImageError("\(error)") }
    let (bytes, map) = image.serialized(device: profile)
    let file = URL(fileURLWithPath: out)
    try FileOutput.writeAtomically([(file, bytes), (URL(fileURLWithPath: out + ".json"), map)])
    let streamText = streams == 1 ? "" : ", \(streams) streams"
    print("hwgen image: model \(modelConfig.name) (\(source.description)), lanes \(lanes), \(packing) weights\(streamText): \(config.memoryPorts) port(s) of \(config.memoryDataBits) bits on \(profile.name)")
    for (p, port) in image.ports.enumerated() {
      print("port \(p) (channel \(p % profile.memory.channels)): \(Format.si(Double(port.count), "B"))")
    }
    print("program: \(program.instructions.count) instructions at port 0 address 0x\(String(image.programAddress, radix: 16)); \(image.regions.count) regions")
    print("wrote \(out) (\(Format.si(Double(bytes.count), "B"))) and \(out).json in \(Format.seconds(watch.seconds))")
  }
}

/// A model or configuration the image cannot be made for: one `Error:` line.
struct ImageError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
