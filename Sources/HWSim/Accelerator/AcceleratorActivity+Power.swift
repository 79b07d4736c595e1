import HWGenerators
import HWSpec

extension AcceleratorActivity {
  /// The counts the power model charges, from the RTL's counters and the
  /// memory model's: one add per non-zero weight, one accumulator update per
  /// lane per weight beat, the bits every on-chip buffer read and wrote, the
  /// element-wise multiplies by unit, the off-chip bytes.
  ///
  /// On-chip traffic: the scratchpad and parameter-buffer beats and the
  /// activation words as counted; each weight beat written into and read out
  /// of the weight FIFO; the norm unit's z memory written and read once per
  /// input beat; the MLGRU unit's h read and written once per input beat (an
  /// upper bound: SILUMUL beats do not touch h). Multiplies: per lane per
  /// norm beat and per MLGRU beat, and per result row of every MATVEC
  /// (`rows`), the multipliers of the unit's lane module as the generated IR
  /// counts them (`multiplies`; today 2, 6 and 1). With several streams every
  /// stream's core applies each weight beat: adds and accumulator updates
  /// count once per stream.
  ///
  /// - Parameters:
  ///   - tokens: tokens the activity covers.
  ///   - rescaledRows: rows the MATVECs of those tokens rescaled.
  ///   - multiplies: the lane multipliers of the element-wise units, the
  ///     census of the units `config` generates (`ElementMultiplies(config)`).
  ///   - scale: multiplies every count (extrapolating unsimulated layers).
  public func counts(
    config: AcceleratorConfig, tokens: Int, rescaledRows: Int, multiplies: ElementMultiplies, scale: Double = 1
  ) -> ActivityCounts {
    let beatBits = 32 * config.elementLanes
    let weightBeatBits = config.core.weightBeatBits
    let wordBits = config.core.activationBeatBits
    let reads = self[.scratchpadReadBeats] * beatBits + self[.parameterReadBeats] * beatBits
      + self[.activationWordReads] * wordBits + self[.weightBeats] * weightBeatBits
      + self[.normBeats] * beatBits + self[.mlgruBeats] * beatBits
    let writes = self[.scratchpadWriteBeats] * beatBits + self[.parameterWriteBeats] * beatBits
      + self[.activationWordWrites] * wordBits + self[.weightFIFOWrites] * weightBeatBits
      + self[.normBeats] * beatBits + self[.mlgruBeats] * beatBits
    let elementMultiplies = self[.normBeats] * config.elementLanes * multiplies.normLane
      + self[.mlgruBeats] * config.elementLanes * multiplies.mlgruLane + rescaledRows * multiplies.rescaleLane
    func s(_ v: Int) -> Int { Int((Double(v) * scale).rounded()) }
    return ActivityCounts(
      tokens: tokens, cycles: s(self[.cycles]), ternaryAdds: s(nonZeroWeights * config.streams),
      accumulatorUpdates: s(self[.weightBeats] * config.lanes * config.streams), onChipReadBits: s(reads), onChipWriteBits: s(writes),
      multiplies: s(elementMultiplies), offChipReadBytes: s(weightBytes + vectorBytes), offChipWriteBytes: 0,
      busy: [
        .init(unit: "ternary core", busyCycles: s(self[.matVecCycles])),
        .init(unit: "element-wise units", busyCycles: s(self[.elementwiseCycles])),
        .init(unit: "off-chip memory", busyCycles: s(memoryBusyCycles)),
      ])
  }
}

extension AcceleratorProgram {
  /// Rows every token's MATVECs rescale (whole row groups).
  public var rescaledRowsPerToken: Int {
    instructions.filter { $0.opcode == .matVec }.reduce(0) { $0 + $1.length * config.lanes }
  }
}
