/// What the accelerator did over a run of `tokens` tokens: the counts the
/// power model multiplies by its per-action energies. The simulation fills
/// them (hardware performance counters where the RTL has them, harness-side
/// counts for the memory model); every field is a total over the run, and
/// the `perToken` values divide by `tokens`.
public struct ActivityCounts: Codable, Hashable, Sendable {
  /// Busy cycles of one unit (cycles it held valid work, stalls excluded).
  public struct UnitBusy: Codable, Hashable, Sendable {
    /// The unit's module name (`ternary_core`, `norm_unit`, ...).
    public var unit: String
    public var busyCycles: Int

    public init(unit: String, busyCycles: Int) {
      self.unit = unit
      self.busyCycles = busyCycles
    }
  }

  /// Tokens the counts cover (at least 1 for a meaningful estimate).
  public var tokens: Int
  /// Clock cycles of the run, stalls included.
  public var cycles: Int
  /// Ternary adds actually performed: one per non-zero weight per activation
  /// element (zero weights cost no add).
  public var ternaryAdds: Int
  /// Accumulator register updates (one per lane per beat that carried weights).
  public var accumulatorUpdates: Int
  /// Bits read from and written to on-chip memories (block RAM: the weight
  /// FIFO, the norm unit's vector memory, the MLGRU unit's h memory).
  public var onChipReadBits: Int
  public var onChipWriteBits: Int
  /// Element-wise multiplies (norms, gates, rescale; the DSP work).
  public var multiplies: Int
  /// Bytes moved to and from off-chip memory (DDR4 / HBM2), whole bursts.
  public var offChipReadBytes: Int
  public var offChipWriteBytes: Int
  /// Busy cycles per unit, in the order the simulation lists its units.
  public var busy: [UnitBusy]

  public init(
    tokens: Int, cycles: Int, ternaryAdds: Int = 0, accumulatorUpdates: Int = 0, onChipReadBits: Int = 0,
    onChipWriteBits: Int = 0, multiplies: Int = 0, offChipReadBytes: Int = 0, offChipWriteBytes: Int = 0,
    busy: [UnitBusy] = []
  ) {
    self.tokens = tokens
    self.cycles = cycles
    self.ternaryAdds = ternaryAdds
    self.accumulatorUpdates = accumulatorUpdates
    self.onChipReadBits = onChipReadBits
    self.onChipWriteBits = onChipWriteBits
    self.multiplies = multiplies
    self.offChipReadBytes = offChipReadBytes
    self.offChipWriteBytes = offChipWriteBytes
    self.busy = busy
  }

  public struct Invalid: Error, CustomStringConvertible {
    public let description: String
  }

  /// Throws unless the counts describe at least one token of at least one
  /// cycle with no negative count.
  public func validate() throws {
    guard tokens >= 1 else { throw Invalid(description: "activity covers \(tokens) tokens; at least 1 is needed") }
    guard cycles >= 1 else { throw Invalid(description: "activity covers \(cycles) cycles; at least 1 is needed") }
    let counts: [(String, Int)] = [
      ("ternaryAdds", ternaryAdds), ("accumulatorUpdates", accumulatorUpdates), ("onChipReadBits", onChipReadBits),
      ("onChipWriteBits", onChipWriteBits), ("multiplies", multiplies), ("offChipReadBytes", offChipReadBytes),
      ("offChipWriteBytes", offChipWriteBytes),
    ] + busy.map { ("busy cycles of \($0.unit)", $0.busyCycles) }
    if let negative = counts.first(where: { $0.1 < 0 }) {
      throw Invalid(description: "activity count \(negative.0) is negative (\(negative.1))")
    }
  }

  /// `value` per token.
  public func perToken(_ value: Int) -> Double { Double(value) / Double(max(1, tokens)) }

  public var cyclesPerToken: Double { perToken(cycles) }
  public var offChipBytes: Int { offChipReadBytes + offChipWriteBytes }
}
