import HWSpec

extension AcceleratorGenerator {
  /// The weight FIFO's size: one memory beat wide (base-3 beats with their
  /// matrix's last-beat flag on top), `weightFIFOBeats` deep.
  public static func weightFIFO(_ config: AcceleratorConfig) -> StreamFIFOConfig {
    StreamFIFOConfig(
      width: config.weightBeatBits + (config.weightPacking == .base3 ? 1 : 0), depth: config.weightFIFOBeats)
  }
}
