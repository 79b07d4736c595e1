/// A model's per-token schedule as a program for the accelerator's sequencer,
/// with the off-chip memory map it addresses and the on-chip buffers it
/// allocates. Derived from the model's shape alone: the same program serves
/// any checkpoint of that shape.
///
/// The schedule of one token (docs/model.md), after a prologue that loads
/// layer 0's parameters:
///
///     EMBED x; per layer l: prefetch layer l+1's vectors, wait for layer l's,
///       a = norm(x); f, i, g = BitLinear(a); h = recur(i, f, lb);
///       o = silu(h) * norm(g); y = BitLinear(o); s = y + x; m = norm(s);
///       gate|u = BitLinear(m); p = silu(gate) * u; x = s + BitLinear(p)
///     prefetch the next token's layer 0; final norm; logits = BitLinear; ARGMAX; END
///
/// Every BitLinear is SETC beta, QUANT (norm + int8), MATVEC (ternary
/// accumulate + rescale). A MATVEC runs on its own: the instructions after it
/// execute alongside until a WAITMV (before anything reads its result), so
/// the QUANTs of i and g and the recurrence hide under the f, i and g
/// mat-vecs. Vector loads are issued one layer ahead, so their memory traffic
/// hides behind the weight stream.
///
/// With several streams (`AcceleratorConfig.streams`) a token step runs every
/// element-wise instruction once per stream, on that stream's scratchpad region
/// and (SETC stream) its activation bank, prompt and last token; each BitLinear
/// is one QUANT per stream and then one MATVEC that serves them all.
public struct AcceleratorProgram: Sendable {
  /// A vector of the model in off-chip memory (Q15.16, 4 bytes an element).
  public enum Vector: Hashable, Sendable {
    case attnNorm(layer: Int)
    case gNorm(layer: Int)
    case mlpNorm(layer: Int)
    case lowerBound(layer: Int)
    case projectionGamma(layer: Int, ModelConfig.Projection)
    case finalNorm
    case lmHeadGamma

    /// The block the vector belongs to (nil: the final norm's and lm_head's).
    public var layer: Int? {
      switch self {
      case .attnNorm(let l), .gNorm(let l), .mlpNorm(let l), .lowerBound(let l), .projectionGamma(let l, _): return l
      case .finalNorm, .lmHeadGamma: return nil
      }
    }

    /// The same vector of block `l` (itself when it belongs to no block).
    public func of(layer l: Int) -> Vector {
      switch self {
      case .attnNorm: return .attnNorm(layer: l)
      case .gNorm: return .gNorm(layer: l)
      case .mlpNorm: return .mlpNorm(layer: l)
      case .lowerBound: return .lowerBound(layer: l)
      case .projectionGamma(_, let p): return .projectionGamma(layer: l, p)
      case .finalNorm, .lmHeadGamma: return self
      }
    }
  }

  /// What lives at an off-chip address.
  public enum Data: Hashable, Sendable {
    /// vocab x D, row-major, Q15.16.
    case embedding
    case vector(Vector)
    /// A projection's packed planes in core-beat order (`layer` nil: the lm_head).
    case matrix(layer: Int?, ModelConfig.Projection)
  }

  /// A region of the memory map. Addresses are byte addresses in each memory
  /// port's own space (`AcceleratorConfig.memoryPorts`): a matrix is striped,
  /// every port holding its slice of each beat (`bytes / memoryPorts` bytes)
  /// at `address`; a vector is dealt out in stripes of `vectorStripeBytes`
  /// starting in `port` (`stripes`); the embedding lives whole in port 0.
  public struct Segment: Hashable, Sendable {
    public var data: Data
    public var address: Int
    /// The segment's whole size, over every port it spans.
    public var bytes: Int
    /// Striped over every port (the matrices), or in `port`'s space alone.
    public var striped: Bool
    public var port: Int
    /// Bytes the segment takes in each port's space it spans.
    public var span: Int
    /// The address the program gives the DMA: a matrix's in every port's
    /// space; for the vector port, `port` in bits `vectorPortShift` and up.
    public var busAddress: Int
    /// A vector's stripe size (`AcceleratorConfig.vectorStripeBytes`); 0 for a segment
    /// that is not dealt out in stripes.
    public var stripeBytes: Int = 0

    /// Where each of a vector's stripes lies: (port, address, bytes), in the vector's
    /// order; the whole segment in `port` for one that is not dealt out.
    public func stripes(ports: Int) -> [(port: Int, address: Int, bytes: Int)] {
      guard stripeBytes > 0 else { return [(port, address, bytes)] }
      return stride(from: 0, to: bytes, by: stripeBytes).enumerated().map { s, offset in
        let slot = port + s
        return (slot % ports, address + slot / ports * stripeBytes, min(stripeBytes, bytes - offset))
      }
    }
  }

  /// What a checkpoint tag stands for.
  public enum Checkpoint: Hashable, Sendable, CustomStringConvertible {
    case mixerOutput(layer: Int)
    case layerOutput(layer: Int)
    case finalNorm
    case logits

    public var description: String {
      switch self {
      case .mixerOutput(let l): return "layer \(l) mixer output"
      case .layerOutput(let l): return "layer \(l) output"
      case .finalNorm: return "final norm"
      case .logits: return "logits"
      }
    }
  }

  public struct Invalid: Error, CustomStringConvertible {
    public let description: String
  }

  public let model: ModelConfig
  public let config: AcceleratorConfig
  /// Layers the program runs (the first `layers` of the model).
  public let layers: Int
  public let instructions: [AcceleratorInstruction]
  /// Where END jumps back to: the first instruction of a token.
  public let loopStart: Int
  /// The checkpoints of a token in program order (empty without checkpoints).
  /// Stream s's copy of checkpoint k carries tag `k * streams + s` (`checkpoint(tag:)`).
  public let checkpoints: [Checkpoint]
  /// The off-chip memory map, by address.
  public let segments: [Segment]
  /// Scratchpad beats the program uses in each stream's region, and parameter-buffer beats.
  public let scratchpadBeats: Int
  public let parameterBeats: Int

  /// Segments start on this boundary (bytes).
  public static let segmentAlignment = 4096

  /// - Parameters:
  ///   - betas: each projection's beta (`layer` nil: the lm_head), the one
  ///     per-checkpoint constant the program carries (SETC).
  ///   - layers: run only the first `layers` blocks (default: all).
  ///   - checkpoints: stream every mixer output, layer output, the final norm
  ///     and the logits out of the debug port for comparison.
  public init(
    model: ModelConfig, config: AcceleratorConfig, betas: (_ layer: Int?, ModelConfig.Projection) -> Scale,
    layers: Int? = nil, checkpoints: Bool = true
  ) throws {
    try config.validate(for: model)
    let layerCount = layers ?? model.layers
    guard (1...model.layers).contains(layerCount) else {
      throw Invalid(description: "the program can run 1 to \(model.layers) layers of \(model.name), not \(layerCount)")
    }
    let e = config.elementLanes
    let d = model.hiddenSize, inter = model.intermediateSize
    guard inter % e == 0 else {
      throw Invalid(description: "the GLU splits its \(2 * inter) outputs in halves of \(inter), which must be a multiple of the \(e) element lanes")
    }
    self.model = model
    self.config = config
    self.layers = layerCount

    func beats(_ n: Int) -> Int { (n + e - 1) / e }
    /// Beats a mat-vec's result occupies: whole row groups of `lanes`.
    func resultBeats(_ rows: Int) -> Int { beats((rows + config.lanes - 1) / config.lanes * config.lanes) }

    // Off-chip memory map: the matrices (striped over the ports), then the vectors, each dealt
    // out over the ports in stripes (every channel carries its share of each vector read, not
    // one channel a whole vector), then the embedding in port 0.
    var segments: [Segment] = []
    var portEnd = [Int](repeating: 0, count: config.memoryPorts)
    func place(_ data: Data, bytes: Int, striped: Bool = false, port: Int = 0) {
      let span = striped ? bytes / config.memoryPorts : bytes
      let start = striped ? portEnd.max()! : portEnd[port]
      let address = (start + Self.segmentAlignment - 1) / Self.segmentAlignment * Self.segmentAlignment
      let bus = striped ? address : port << config.vectorPortShift | address
      segments.append(
        Segment(data: data, address: address, bytes: bytes, striped: striped, port: port, span: span, busAddress: bus))
      let end = address + (span + Self.segmentAlignment - 1) / Self.segmentAlignment * Self.segmentAlignment
      if striped { portEnd = portEnd.map { _ in end } } else { portEnd[port] = end }
    }
    let layerVectors: [(Int) -> Vector] = [
      { .attnNorm(layer: $0) }, { .projectionGamma(layer: $0, .f) }, { .projectionGamma(layer: $0, .i) },
      { .projectionGamma(layer: $0, .g) }, { .projectionGamma(layer: $0, .o) }, { .gNorm(layer: $0) },
      { .mlpNorm(layer: $0) }, { .projectionGamma(layer: $0, .gate) }, { .projectionGamma(layer: $0, .down) },
      { .lowerBound(layer: $0) },
    ]
    func length(of v: Vector) -> Int {
      if case .projectionGamma(_, .down) = v { return inter }
      return d
    }
    func memoryBeats(_ p: ModelConfig.Projection) -> Int {
      let s = model.shape(of: p)
      return config.memoryBeats(coreBeats: (s.rows + config.lanes - 1) / config.lanes * ((s.cols + 63) / 64))
    }
    func matrixBytes(_ p: ModelConfig.Projection) -> Int { memoryBeats(p) * config.weightBeatBytes }
    let order: [ModelConfig.Projection] = [.f, .i, .g, .o, .gate, .down]
    for l in 0..<layerCount {
      for p in order { place(.matrix(layer: l, p), bytes: matrixBytes(p), striped: true) }
    }
    place(.matrix(layer: nil, .lmHead), bytes: matrixBytes(.lmHead), striped: true)
    // The vectors' stripes follow each other round the ports from one base address: stripe g
    // of the region lies in port g % ports, at the base plus g / ports stripes. A vector starts
    // in the port after the one its predecessor ended in, so consecutive loads go round the
    // ports evenly and no port's space has holes.
    let stripe = config.vectorStripeBytes, ports = config.memoryPorts
    let vectorBase = (portEnd.max()! + stripe - 1) / stripe * stripe
    var stripesPlaced = 0
    func placeVector(_ v: Vector) {
      let bytes = 4 * length(of: v)
      let first = stripesPlaced % ports
      let address = vectorBase + stripesPlaced / ports * stripe
      let stripes = (bytes + stripe - 1) / stripe
      segments.append(
        Segment(
          data: .vector(v), address: address, bytes: bytes, striped: false, port: first,
          span: (first + stripes + ports - 1) / ports * stripe, busAddress: first << config.vectorPortShift | address,
          stripeBytes: stripe))
      stripesPlaced += stripes
    }
    for l in 0..<layerCount { layerVectors.forEach { placeVector($0(l)) } }
    placeVector(.finalNorm)
    placeVector(.lmHeadGamma)
    portEnd = portEnd.map { _ in vectorBase + (stripesPlaced + ports - 1) / ports * stripe }
    // The embedding last, whole in port 0: below the vectors it would push every port's
    // vector stripes past its end.
    place(.embedding, bytes: 4 * model.vocabSize * d)
    let beatLimit = 1 << (AcceleratorInstruction.immediateBits - AcceleratorInstruction.matVecAddressBits)
    if config.weightPacking == .base3, let most = ModelConfig.Projection.allCases.map(memoryBeats).max(), most >= beatLimit {
      throw Invalid(description: "model \(model.name) has a matrix of \(most) memory beats; a MATVEC names at most \(beatLimit - 1)")
    }
    guard portEnd.allSatisfy({ $0 <= 1 << config.vectorPortShift }) else {
      throw Invalid(description: "model \(model.name) needs more than the \(1 << config.vectorPortShift) bytes a port's window holds")
    }
    self.segments = segments
    let addressOf = Dictionary(uniqueKeysWithValues: segments.map { ($0.data, $0.busAddress) })

    // Parameter buffer: two layer slots (this layer, the next) and the final vectors.
    var slotOffset: [Vector: Int] = [:]
    var slotBeats = 0
    for make in layerVectors {
      slotOffset[make(0)] = slotBeats
      slotBeats += beats(length(of: make(0)))
    }
    func param(_ v: Vector) -> Int {
      switch v {
      case .finalNorm: return 2 * slotBeats
      case .lmHeadGamma: return 2 * slotBeats + beats(d)
      default: return (v.layer! % 2) * slotBeats + slotOffset[v.of(layer: 0)]!
      }
    }
    parameterBeats = 2 * slotBeats + 2 * beats(d)

    // Scratchpad: the residual stream and the final norm, then a work area
    // the layer's vectors (or the logits) share. Each stream has this layout in
    // its own region (`AcceleratorConfig.streamScratchpadBeats`); the addresses
    // below are stream 0's.
    var next = 0
    func region(_ count: Int) -> Int {
      defer { next += count }
      return next
    }
    let x = region(beats(d)), finalOut = region(beats(d))
    let work = next
    let aBuf = region(beats(d)), fBuf = region(resultBeats(d)), iBuf = region(resultBeats(d)), hBuf = region(beats(d))
    let gBuf = region(resultBeats(d)), gnBuf = region(beats(d)), oBuf = region(beats(d)), yBuf = region(resultBeats(d))
    let sBuf = region(beats(d)), mBuf = region(beats(d)), guBuf = region(resultBeats(2 * inter)), pBuf = region(beats(inter))
    let downBuf = region(resultBeats(d))
    let logits = work
    scratchpadBeats = max(next, work + resultBeats(model.vocabSize))
    let streams = 0..<config.streams
    guard scratchpadBeats <= config.streamScratchpadBeats else {
      let each = config.streams > 1 ? " for each of \(config.streams) streams" : ""
      throw Invalid(description: "model \(model.name) needs \(scratchpadBeats) scratchpad beats\(each); the accelerator has \(config.streamScratchpadBeats)")
    }
    guard parameterBeats <= config.parameterBeats else {
      throw Invalid(description: "model \(model.name) needs \(parameterBeats) parameter-buffer beats; the accelerator has \(config.parameterBeats)")
    }
    guard model.vocabSize < 1 << AcceleratorInstruction.lengthBits else {
      throw Invalid(description: "vocab \(model.vocabSize) does not fit the \(AcceleratorInstruction.lengthBits)-bit length field")
    }

    // The program. With several streams each element-wise step runs once per
    // stream on that stream's region (`at`), and each MATVEC serves them all.
    var program: [AcceleratorInstruction] = []
    var tags: [Checkpoint] = []
    var constantsLength = 0
    var currentStream: Int?
    func emit(_ i: AcceleratorInstruction) { program.append(i) }
    func at(_ address: Int, _ stream: Int) -> Int { stream * config.streamScratchpadBeats + address }
    /// SETC stream before an instruction that serves one stream's state (QUANT, EMBED, ARGMAX).
    func select(_ stream: Int) {
      guard config.streams > 1, currentStream != stream else { return }
      currentStream = stream
      emit(AcceleratorInstruction(.setConstant, b: AcceleratorConstant.stream.rawValue, immediate: UInt64(stream)))
    }
    func load(_ v: Vector) {
      emit(AcceleratorInstruction(.loadVector, length: length(of: v), dst: param(v), immediate: UInt64(addressOf[.vector(v)]!)))
    }
    func lengthConstants(_ n: Int) {
      guard constantsLength != n else { return }
      constantsLength = n
      let c = Norms.LengthConstants(length: n)
      emit(AcceleratorInstruction(.setConstant, b: AcceleratorConstant.epsTerm.rawValue, immediate: c.epsTerm))
      emit(.setScale(.sqrtLength, c.sqrtLength, exponentBits: NormUnitConfig.sqrtLengthExponentBits))
    }
    func norm(_ src: Int, _ gamma: Vector, _ dst: Int, _ n: Int, stream: Int) {
      lengthConstants(n)
      emit(AcceleratorInstruction(.norm, length: n, a: at(src, stream), b: param(gamma), dst: at(dst, stream)))
    }
    /// One BitLinear for every stream: a QUANT of each stream's input, then one MATVEC.
    func bitLinear(_ src: Int, _ layer: Int?, _ p: ModelConfig.Projection, _ dst: Int) {
      let s = model.shape(of: p)
      lengthConstants(s.cols)
      emit(.setScale(.beta, betas(layer, p), exponentBits: NormUnitConfig.betaExponentBits))
      let gamma: Vector = layer.map { .projectionGamma(layer: $0, p) } ?? .lmHeadGamma
      for stream in streams {
        select(stream)
        emit(AcceleratorInstruction(.quantize, length: s.cols, a: at(src, stream), b: param(gamma)))
      }
      let address = UInt64(addressOf[.matrix(layer: layer, p)]!)
      let beats = config.weightPacking == .base3 ? UInt64(memoryBeats(p)) << UInt64(AcceleratorInstruction.matVecAddressBits) : 0
      emit(AcceleratorInstruction(
        .matVec, length: (s.rows + config.lanes - 1) / config.lanes, b: (s.cols + 63) / 64, dst: dst,
        immediate: beats | address))
    }
    func checkpoint(_ src: Int, _ n: Int, _ what: Checkpoint, stream: Int) {
      guard checkpoints else { return }
      if stream == 0 { tags.append(what) }
      let tag = (tags.count - 1) * config.streams + stream
      emit(AcceleratorInstruction(.checkpoint, length: n, a: at(src, stream), immediate: UInt64(tag)))
    }

    for make in layerVectors { load(make(0)) }
    let loopStart = program.count
    for stream in streams {
      select(stream)
      emit(AcceleratorInstruction(.embed, length: d, dst: at(x, stream), immediate: UInt64(addressOf[.embedding]!)))
    }
    emit(AcceleratorInstruction(.waitLoads, immediate: 0))
    for l in 0..<layerCount {
      let ahead: [Vector] = l + 1 < layerCount ? layerVectors.map { $0(l + 1) } : [.finalNorm, .lmHeadGamma]
      ahead.forEach(load)
      emit(AcceleratorInstruction(.waitLoads, immediate: UInt64(ahead.count)))
      for s in streams { norm(x, .attnNorm(layer: l), aBuf, d, stream: s) }
      // f, i and g share their input: each QUANT runs under the previous
      // MATVEC, and the recurrence (f and i done) under g's.
      bitLinear(aBuf, l, .f, fBuf)
      bitLinear(aBuf, l, .i, iBuf)
      bitLinear(aBuf, l, .g, gBuf)
      let lb = UInt64(param(.lowerBound(layer: l)))
      for s in streams {
        // h of (layer, stream) lives in MLGRU slot layer * streams + stream.
        let slot = UInt64(l * config.streams + s)
        emit(AcceleratorInstruction(
          .recur, length: d, a: at(iBuf, s), b: at(fBuf, s), dst: at(hBuf, s), immediate: slot << 16 | lb))
      }
      emit(AcceleratorInstruction(.waitMatVec))
      for s in streams {
        norm(gBuf, .gNorm(layer: l), gnBuf, d, stream: s)
        emit(AcceleratorInstruction(.siluMul, length: d, a: at(hBuf, s), b: at(gnBuf, s), dst: at(oBuf, s)))
      }
      bitLinear(oBuf, l, .o, yBuf)
      emit(AcceleratorInstruction(.waitMatVec))
      for s in streams {
        checkpoint(yBuf, d, .mixerOutput(layer: l), stream: s)
        emit(AcceleratorInstruction(.add, length: d, a: at(yBuf, s), b: at(x, s), dst: at(sBuf, s)))
        norm(sBuf, .mlpNorm(layer: l), mBuf, d, stream: s)
      }
      bitLinear(mBuf, l, .gate, guBuf)
      emit(AcceleratorInstruction(.waitMatVec))
      for s in streams {
        emit(AcceleratorInstruction(.siluMul, length: inter, a: at(guBuf, s), b: at(guBuf + inter / e, s), dst: at(pBuf, s)))
      }
      bitLinear(pBuf, l, .down, downBuf)
      emit(AcceleratorInstruction(.waitMatVec))
      for s in streams {
        emit(AcceleratorInstruction(.add, length: d, a: at(sBuf, s), b: at(downBuf, s), dst: at(x, s)))
        checkpoint(x, d, .layerOutput(layer: l), stream: s)
      }
    }
    // The next token's layer 0 loads while the lm_head streams.
    for make in layerVectors { load(make(0)) }
    emit(AcceleratorInstruction(.waitLoads, immediate: UInt64(layerVectors.count)))
    for s in streams {
      norm(x, .finalNorm, finalOut, d, stream: s)
      checkpoint(finalOut, d, .finalNorm, stream: s)
    }
    bitLinear(finalOut, nil, .lmHead, logits)
    emit(AcceleratorInstruction(.waitMatVec))
    for s in streams {
      checkpoint(logits, model.vocabSize, .logits, stream: s)
      select(s)
      emit(AcceleratorInstruction(.argmax, length: model.vocabSize, a: at(logits, s)))
    }
    emit(AcceleratorInstruction(.end, immediate: UInt64(loopStart)))
    guard program.count <= config.programDepth else {
      throw Invalid(description: "model \(model.name) needs \(program.count) instructions; the program memory holds \(config.programDepth)")
    }
    instructions = program
    self.loopStart = loopStart
    self.checkpoints = tags
  }

  /// What a checkpoint tag carries, and for which stream.
  public func checkpoint(tag: Int) -> (what: Checkpoint, stream: Int)? {
    let k = tag / config.streams
    return checkpoints.indices.contains(k) ? (checkpoints[k], tag % config.streams) : nil
  }

  /// The matrices of one token in the order MATVEC streams them: the weight
  /// DMA's descriptor list.
  public var matrixOrder: [(layer: Int?, projection: ModelConfig.Projection, address: Int)] {
    let byAddress = Dictionary(uniqueKeysWithValues: segments.map { ($0.busAddress, $0.data) })
    let mask = UInt64(1) << UInt64(AcceleratorInstruction.matVecAddressBits) - 1
    return instructions.filter { $0.opcode == .matVec }.map { i in
      let address = Int(i.immediate & mask)
      guard case .matrix(let layer, let p) = byAddress[address]! else { preconditionFailure("MATVEC of a non-matrix") }
      return (layer, p, address)
    }
  }
}
