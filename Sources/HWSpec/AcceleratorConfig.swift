/// Parameters of the token-level accelerator: the ternary core's shape and the
/// sizes of its on-chip memories. One value feeds the unit generators, the
/// simulation harness and the report; `validate(for:)` says whether a model
/// fits.
public struct AcceleratorConfig: Hashable, Sendable, Codable, CustomStringConvertible {
  /// Output rows of the ternary core computed in parallel. The norm, rescale,
  /// MLGRU and vector units take `elementLanes` = min(lanes, 64) elements a
  /// cycle (their vector memories stay at most 2048 bits wide).
  public var lanes: Int
  /// Ternary weights each core lane takes per cycle. Fixed at 64: a core lane's
  /// beat is then exactly one (non-zero, negative) word pair of
  /// `PackedTernary`, so off-chip memory serves the packed planes as they are.
  public var laneWidth: Int
  /// Layers of h the MLGRU unit keeps on chip.
  public var maxLayers: Int
  /// Longest vector the MLGRU unit takes: I, for the GLU's SiLU gating.
  public var maxHidden: Int
  /// h elements the MLGRU unit keeps per layer (and stream): the model's D, the
  /// length of the recurrence. The h memory holds `maxLayers` x `maxStateLength`.
  public var maxStateLength: Int
  /// Longest vector the norm unit's memory holds (max(D, I) of the model).
  public var maxLength: Int
  /// Longest dot product of the core's accumulators.
  public var maxInputs: Int
  /// Weight beats the on-chip prefetch FIFO holds between off-chip memory
  /// and the core (block RAM): the memory keeps streaming the next matrix
  /// while the element-wise units work.
  public var weightFIFOBeats: Int
  /// Q15.16 elements of the activation scratchpad (the vectors of a layer,
  /// or the logits) and of the parameter buffer (two layers' gammas and lower
  /// bound, prefetched one layer ahead).
  public var scratchpadElements: Int
  public var parameterElements: Int
  /// Instructions the sequencer's program memory holds.
  public var programDepth: Int
  /// How the weights lie in off-chip memory: 2-bit planes the core takes as they
  /// are, or base-3 bytes (1.6 bits a weight) that `weight_unpack` turns into the
  /// core's beats.
  public var weightPacking: WeightPacking
  /// Independent sequences run side by side (batching): each has its own
  /// prompt, MLGRU state, scratchpad region, activation banks and generated
  /// tokens, and every weight beat fetched from memory serves all of them
  /// (one ternary core per stream, in lockstep on the shared beat).
  public var streams: Int

  public static let defaultLanes = 16
  /// The most streams a design runs.
  public static let maxStreams = 16
  /// The defaults fit every preset (2.7B: 32 layers, D 2560, I 6912), so one
  /// generated design runs them all.
  public static let defaultMaxHidden = 6912
  /// h a layer: the 2.7B model's D (h needs D, not the GLU's I; at most `maxHidden`).
  public static let defaultMaxStateLength = 2560
  /// 256 KiB of block RAM: 1024 beats at 16 lanes.
  public static let defaultWeightFIFOBytes = 256 * 1024
  /// 2 Mbit each: every preset up to 2.7B fits (`AcceleratorProgram` checks).
  public static let defaultScratchpadElements = 65536
  public static let defaultParameterElements = 65536
  public static let defaultProgramDepth = 2048
  /// Bits of a token (`prompt_token_i`, `token_o`).
  public static let tokenBits = 16
  /// Bits of `tokens_i`, the tokens one start runs.
  public static let tokenCountBits = 32
  /// Bits of each performance counter.
  public static let counterBits = 48

  public init(
    lanes: Int = defaultLanes, maxLayers: Int = MLGRUUnitConfig.defaultMaxLayers,
    maxHidden: Int = defaultMaxHidden, maxStateLength: Int? = nil,
    maxLength: Int = NormUnitConfig.defaultMaxLength,
    maxInputs: Int = TernaryCoreConfig.defaultMaxInputs, weightFIFOBeats: Int? = nil,
    scratchpadElements: Int? = nil, parameterElements: Int? = nil,
    programDepth: Int? = nil, weightPacking: WeightPacking = .planes, streams: Int = 1
  ) {
    self.lanes = lanes
    self.laneWidth = 64
    self.streams = streams
    self.maxLayers = maxLayers
    self.maxHidden = maxHidden
    self.maxStateLength = maxStateLength ?? min(maxHidden, Self.defaultMaxStateLength)
    self.maxLength = maxLength
    self.maxInputs = maxInputs
    self.weightFIFOBeats = weightFIFOBeats ?? max(64, Self.defaultWeightFIFOBytes / (max(1, lanes) * 16))
    // The defaults in whole beats of min(lanes, 64) elements, grown for the streams.
    let beat = max(1, min(lanes, 64))
    self.scratchpadElements =
      scratchpadElements ?? Self.perStream(Self.defaultScratchpadElements / beat * beat, streams: streams)
    self.parameterElements = parameterElements ?? Self.defaultParameterElements / beat * beat
    self.programDepth = programDepth ?? Self.perStream(Self.defaultProgramDepth, streams: streams)
    self.weightPacking = weightPacking
  }

  /// What one stream's `size` of scratchpad or program grows to with `streams` streams: each
  /// stream has its own scratchpad region and its own copy of the element-wise program.
  static func perStream(_ size: Int, streams: Int) -> Int { size * max(1, streams) }

  /// This one-stream configuration run as `streams` streams, its scratchpad and program grown
  /// as the defaults grow.
  public func streaming(_ streams: Int) -> AcceleratorConfig {
    var config = self
    config.streams = streams
    config.scratchpadElements = Self.perStream(scratchpadElements, streams: streams)
    config.programDepth = Self.perStream(programDepth, streams: streams)
    return config
  }

  /// The defaults with a weight FIFO of `kib` KiB (whole beats, at least 2).
  public init(lanes: Int, weightFIFOKiB kib: Int, weightPacking: WeightPacking = .planes, streams: Int = 1) {
    self.init(lanes: lanes, weightPacking: weightPacking, streams: streams)
    weightFIFOBeats = max(2, kib * 1024 / weightBeatBytes)
  }

  public var scratchpadBeats: Int { scratchpadElements / elementLanes }
  /// Scratchpad beats of each stream's region: stream s's vectors lie at
  /// `s * streamScratchpadBeats` and up (a MATVEC writes each stream's result there).
  public var streamScratchpadBeats: Int { scratchpadBeats / streams }
  /// Bits of a stream number (0 with one stream).
  public var streamBits: Int { streams > 1 ? AcceleratorCSRConfig.bits(streams - 1) : 0 }
  /// Bits of a token as the PROMPT and TOKEN FIFOs carry it: the token, and
  /// with several streams the stream's number above it (bits 16 and up).
  public var taggedTokenBits: Int { Self.tokenBits + streamBits }
  public var parameterBeats: Int { parameterElements / elementLanes }

  public struct Invalid: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
  }

  public var elementLanes: Int { min(lanes, 64) }

  public var core: TernaryCoreConfig { TernaryCoreConfig(lanes: lanes, laneWidth: laneWidth, maxInputs: maxInputs) }
  public var norm: NormUnitConfig {
    NormUnitConfig(lanes: elementLanes, maxLength: maxLength, accumulatorWidth: core.accumulatorWidth)
  }
  /// The MLGRU unit keeps h of every layer of every stream: slot `layer * streams + stream`.
  public var mlgru: MLGRUUnitConfig {
    MLGRUUnitConfig(
      lanes: elementLanes, maxLayers: maxLayers * streams, maxHidden: maxHidden, stateLength: maxStateLength)
  }

  /// Bytes of one weight beat as memory delivers it (the weight FIFO's beat): the
  /// core's beat of 2-bit planes, or as many base-3 bytes, which carry
  /// `weightBeatTrits` weights.
  public var weightBeatBytes: Int { lanes * laneWidth * 2 / 8 }
  public var weightBeatBits: Int { lanes * laneWidth * 2 }
  /// Weights in one memory beat: the core's `lanes * laneWidth`, or 5/4 of it in base 3.
  public var weightBeatTrits: Int {
    switch weightPacking {
    case .planes: return lanes * laneWidth
    case .base3: return weightBeatBytes * TritPacking.tritsPerByte
    }
  }

  /// Memory beats of a matrix of `coreBeats` core beats (row groups x 64-column
  /// words): one each as planes; in base 3 the trit stream padded to whole beats.
  public func memoryBeats(coreBeats: Int) -> Int {
    let trits = coreBeats * lanes * laneWidth
    return (trits + weightBeatTrits - 1) / weightBeatTrits
  }

  /// The widest AXI4 data bus a memory port uses (a DDR4 channel's).
  public static let maxMemoryDataBits = 512

  /// AXI4 read ports toward off-chip memory. The weight DMA stripes every
  /// weight beat across them: port p carries bits `[p*memoryDataBits +:
  /// memoryDataBits]` (core lanes `p*lanes/memoryPorts` on), so each port
  /// moves one beat of its own slice per weight beat and all of them stream
  /// at once. 16 lanes: four 512-bit ports (the D5005's four DDR4 channels).
  public var memoryPorts: Int { max(1, weightBeatBits / Self.maxMemoryDataBits) }
  /// Each port's data width: its slice of a weight beat.
  public var memoryDataBits: Int { weightBeatBits / memoryPorts }
  public var memoryDataBytes: Int { memoryDataBits / 8 }

  /// The vector port (`mvec_axi_*`): LOADV and EMBED read gammas, lower
  /// bounds and embedding rows through it, an element beat (32 x
  /// `elementLanes` bits) per `vectorBeatsPerElementBeat` AXI beats of at most
  /// 512 bits. Eight bursts in flight, like the weight ports.
  public var vectorDataBits: Int { max(32, min(Self.maxMemoryDataBits, 32 * elementLanes)) }
  public var vectorBeatsPerElementBeat: Int { max(1, 32 * elementLanes / vectorDataBits) }
  public var vectorMaster: AXIReadMasterConfig {
    AXIReadMasterConfig(
      dataWidth: vectorDataBits, addressWidth: 36, maxBurstBeats: min(16, AXIReadMasterConfig.pageBytes / (vectorDataBits / 8)),
      outstanding: 8, idWidth: 4, readID: 0, lengthBits: 32, timeoutCycles: 1 << 16)
  }

  /// Where the vector port's byte address names the memory port it reads:
  /// bits `[vectorPortShift +: bits(memoryPorts - 1)]` (the channel's window in
  /// the interconnect's address map), the rest the address in that port's
  /// space. The vectors are spread over the ports' spaces, so no channel
  /// carries them all.
  public var vectorPortShift: Int {
    vectorMaster.addressWidth - (memoryPorts > 1 ? AcceleratorCSRConfig.bits(memoryPorts - 1) : 0)
  }

  /// A vector is striped over the ports in pieces of this many bytes (one of the vector
  /// port's bursts): piece s of a vector that starts in port p lies in port (p + s) mod
  /// `memoryPorts`, one stripe further into each port's space every time the port number
  /// wraps. The vector DMA reads a LOADV piece by piece, so a vector's reads spread over
  /// every channel instead of queuing behind one channel's weight stream.
  public var vectorStripeBytes: Int { vectorMaster.maxBurstBeats * vectorMaster.bytesPerBeat }

  /// The weight DMA's read engine on each port: 16-beat bursts, eight
  /// outstanding (128 beats in flight cover a memory latency of up to ~100
  /// cycles at one beat a cycle, and the vector port's short reads, on which
  /// the program waits, keep going back to back), byte addresses of 36 bits
  /// (64 GiB a port). At 16 lanes the vector port's engine is the same module.
  public var memoryMaster: AXIReadMasterConfig {
    AXIReadMasterConfig(
      dataWidth: memoryDataBits, addressWidth: 36, maxBurstBeats: min(16, AXIReadMasterConfig.pageBytes / memoryDataBytes),
      outstanding: 8, idWidth: 4, readID: 0, lengthBits: 32, timeoutCycles: 1 << 16)
  }

  /// Bits of `mem_err_port_i`: a weight port p, or `memoryPorts` for the vector port.
  public var memoryErrorPortBits: Int { AcceleratorCSRConfig.bits(memoryPorts) }

  /// The control/status slave for this accelerator: its ports' widths are
  /// the top's program load (the program memory's depth, a vector-port address
  /// on a whole element beat), `tokens_i`, token, `mem_err_*` and counter widths.
  public var csr: AcceleratorCSRConfig {
    AcceleratorCSRConfig(
      programDepth: programDepth, programBaseBits: vectorMaster.addressWidth,
      programAlignBits: (4 * elementLanes).trailingZeroBitCount, tokenBits: taggedTokenBits,
      tokensBits: Self.tokenCountBits, counters: AcceleratorCounter.allCases.count, counterBits: Self.counterBits,
      memoryErrorCodeBits: AXIReadError.bits, memoryErrorPortBits: memoryErrorPortBits,
      memoryAddressBits: memoryMaster.addressWidth)
  }

  public func validate() throws {
    guard (1...Self.maxStreams).contains(streams) else {
      throw Invalid(description: "streams must be between 1 and \(Self.maxStreams), got \(streams)")
    }
    guard laneWidth == 64 else {
      throw Invalid(description: "accelerator lane width must be 64 (one packed word pair per lane), got \(laneWidth)")
    }
    guard (1...256).contains(lanes) else {
      throw Invalid(description: "accelerator lanes must be between 1 and 256, got \(lanes)")
    }
    guard weightFIFOBeats >= 2 else {
      throw Invalid(description: "the weight FIFO needs at least 2 beats, got \(weightFIFOBeats)")
    }
    for (name, elements) in [("scratchpad", scratchpadElements), ("parameter buffer", parameterElements)] {
      guard elements >= elementLanes && elements <= 1 << 20 && elements % elementLanes == 0 else {
        throw Invalid(description: "the \(name) must hold a whole number of \(elementLanes)-element beats, at most 2^20 elements; got \(elements)")
      }
      guard elements / elementLanes <= 1 << AcceleratorInstruction.addressBits else {
        throw Invalid(description: "the \(name) has \(elements / elementLanes) beats; instructions address \(1 << AcceleratorInstruction.addressBits)")
      }
    }
    guard scratchpadBeats % streams == 0 else {
      throw Invalid(description: "the scratchpad's \(scratchpadBeats) beats do not split into \(streams) equal stream regions")
    }
    guard (2...65536).contains(programDepth) else {
      throw Invalid(description: "the program memory must hold 2 to 65536 instructions, got \(programDepth)")
    }
    try core.validate()
    try norm.validate()
    try mlgru.validate()
  }

  /// Throws unless `model` fits the on-chip memories.
  public func validate(for model: ModelConfig) throws {
    try validate()
    guard model.layers <= maxLayers else {
      throw Invalid(description: "model \(model.name) has \(model.layers) layers; the h memory holds \(maxLayers)")
    }
    guard model.hiddenSize <= maxStateLength else {
      throw Invalid(description: "model \(model.name) has D = \(model.hiddenSize); the h memory holds \(maxStateLength) a layer")
    }
    guard model.longestReduction <= maxHidden else {
      throw Invalid(description: "model \(model.name) gates \(model.longestReduction) elements; the MLGRU unit takes \(maxHidden)")
    }
    guard model.longestReduction <= maxLength else {
      throw Invalid(description: "model \(model.name) normalizes \(model.longestReduction) elements; the norm memory holds \(maxLength)")
    }
    guard model.longestReduction <= maxInputs else {
      throw Invalid(description: "model \(model.name) reduces over \(model.longestReduction) inputs; the accumulators hold \(maxInputs)")
    }
  }

  /// The weight packing and streams named by the `:PACKING` and `:sSTREAMS` options of a spec
  /// (`accel:16:base3:s4`, `u250:32:1024:base3:s4`), in any order; throws naming the first
  /// option that is neither.
  public static func variant(_ options: some Sequence<String>) throws -> (packing: WeightPacking, streams: Int) {
    var packing = WeightPacking.planes, streams = 1
    for option in options {
      if let p = WeightPacking(rawValue: option) {
        packing = p
      } else if option.hasPrefix("s"), let n = Int(option.dropFirst()) {
        streams = n
      } else {
        throw Invalid(description: "'\(option)' is neither a packing (planes, base3) nor sSTREAMS")
      }
    }
    return (packing, streams)
  }

  /// The smallest memories that fit `model` (lanes as given).
  public static func fitting(_ model: ModelConfig, lanes: Int = defaultLanes) -> AcceleratorConfig {
    AcceleratorConfig(
      lanes: lanes, maxLayers: max(1, model.layers), maxHidden: model.longestReduction,
      maxStateLength: model.hiddenSize,
      maxLength: model.longestReduction, maxInputs: TernaryCoreConfig.defaultMaxInputs)
  }

  public var description: String {
    (streams > 1 ? "\(streams) streams, " : "")
      + "lanes \(lanes) x laneWidth \(laneWidth), \(weightPacking) weights, h memory \(maxLayers) x \(maxStateLength), vectors up to \(maxHidden), norm memory \(maxLength), weight FIFO \(weightFIFOBeats) beats"
  }
}
