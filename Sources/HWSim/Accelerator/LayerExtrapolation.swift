import HWSpec

/// How `--layers K` charges the layers it does not simulate, from what the simulated part measured.
///
/// A token of the K-layer program is: the start (from the previous ARGMAX: END, EMBED, waiting for layer 0's
/// vectors) with layer 0, layers 1 ..< K - 1, the last layer K - 1 (which loads the final norm's and lm_head's
/// gammas ahead instead of a next layer's vectors), then the final norm, lm_head and argmax. The whole model's
/// token has the same start, the same last layer and the same tail, with `layers - 2` layers in between. So the
/// measured cycles stay as they are, and each left-out layer costs what a steady layer costs:
///
/// - K >= 3: the mean span of layers 1 ..< K - 1 between their layer-output checkpoints (steady layers: each
///   follows a layer and loads the next one's vectors ahead);
/// - K = 2: the last layer's span, with the memory time of the bytes it did not move compared with a steady
///   layer (the next layer's vectors) added where the memory had no idle cycles to hide them;
/// - K = 1: the first layer's span, which also holds the token's start (an overestimate).
///
/// The bytes of the left-out layers are exact (`AcceleratorSimulation.unsimulatedBytes`). Physics holds by
/// construction: a left-out layer is never charged fewer cycles than its bytes take at the memory's bytes per
/// cycle, and the token never fewer than all its bytes take; cycles added for either go to `stalls`.
public struct LayerExtrapolation: Hashable, Sendable, Codable {
  /// Counters and memory state at a point of the token (a layer-output checkpoint, or the token's start).
  public struct Mark: Hashable, Sendable {
    public var counters: [AcceleratorCounter: Int]
    public var busyCycles: Int
    public var bytes: Int

    public init(counters: [AcceleratorCounter: Int], busyCycles: Int, bytes: Int) {
      self.counters = counters
      self.busyCycles = busyCycles
      self.bytes = bytes
    }
  }

  public enum Basis: String, Hashable, Sendable, Codable {
    case steadyLayers = "mean of the steady simulated layers 1..<K-1"
    case lastLayer = "last simulated layer, corrected for the vectors it does not load ahead"
    case firstLayer = "first layer with the token's start (an overestimate)"
  }

  public var basis: Basis
  /// Layers charged, and the cycles charged to each.
  public var addedLayers: Int
  public var cyclesPerAddedLayer: Double
  /// The reference span's cycles (before the memory-time floors).
  public var referenceCycles: Double
  /// The token's cycles and bytes with the left-out layers.
  public var cycles: CycleBreakdown
  public var bytes: Int
  /// Whether the token's roofline floor (all its bytes at the memory's bytes per cycle) raised the cycles.
  public var rooflineFloorApplied: Bool

  public init(
    start: Mark, marks: [Mark], measured: CycleBreakdown, measuredBytes: Int, layers: Int, unsimulatedBytes: Int,
    bytesPerCycle: Double
  ) {
    precondition(!marks.isEmpty && marks.count < layers)
    func span(_ a: Mark, _ b: Mark) -> (cycles: CycleBreakdown, busy: Int, bytes: Int) {
      (CycleBreakdown(b.counters.merging(a.counters) { $0 - $1 }), b.busyCycles - a.busyCycles, b.bytes - a.bytes)
    }
    let k = marks.count
    let added = layers - k
    let layerSpans = (1..<k).map { span(marks[$0 - 1], marks[$0]) }
    let reference: [(cycles: CycleBreakdown, busy: Int, bytes: Int)]
    if k >= 3 {
      basis = .steadyLayers
      reference = Array(layerSpans.dropLast())
    } else if k == 2 {
      basis = .lastLayer
      reference = layerSpans
    } else {
      basis = .firstLayer
      reference = [span(start, marks[0])]
    }
    let n = Double(reference.count)
    let refCycles = reference.reduce(CycleBreakdown()) { $0 + $1.cycles }
    let refTotal = Double(refCycles.total) / n
    let refBusy = Double(reference.reduce(0) { $0 + $1.busy }) / n
    let refBytes = Double(reference.reduce(0) { $0 + $1.bytes }) / n
    let layerBytes = Double(unsimulatedBytes) / Double(added)
    // A steady layer moves `layerBytes`; what the reference moved less needs that many more busy cycles, which fit
    // into the reference's idle memory cycles at best. Never less than the layer's bytes at full bandwidth.
    let needed = refBusy + (layerBytes - refBytes) / bytesPerCycle
    let perLayer = max(refTotal, needed, layerBytes / bytesPerCycle)
    addedLayers = added
    cyclesPerAddedLayer = perLayer
    referenceCycles = refTotal
    var charged = refCycles.scaled(Double(added) / n)
    charged.stalls += Int((perLayer * Double(added)).rounded(.up)) - charged.total
    var cycles = measured + charged
    bytes = measuredBytes + unsimulatedBytes
    let floor = Int((Double(bytes) / bytesPerCycle).rounded(.up))
    rooflineFloorApplied = cycles.total < floor
    if rooflineFloorApplied { cycles.stalls += floor - cycles.total }
    self.cycles = cycles
  }

  /// The largest relative error of the extrapolated cycles against a simulation of every layer, as measured by
  /// `AcceleratorExtrapolationTests` and `hwgen bench accel` (docs/accelerator.md): the figure the report prints.
  public static func errorBound(layersSimulated k: Int) -> Double {
    k >= 2 ? 0.01 : 0.06
  }
}
