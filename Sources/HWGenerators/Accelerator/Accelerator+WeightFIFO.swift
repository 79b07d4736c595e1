import HWSpec

extension AcceleratorGenerator {
  /// The weight FIFO's size: one weight beat wide, `weightFIFOBeats` deep.
  public static func weightFIFO(_ config: AcceleratorConfig) -> StreamFIFOConfig {
    StreamFIFOConfig(width: config.core.weightBeatBits, depth: config.weightFIFOBeats)
  }
}
