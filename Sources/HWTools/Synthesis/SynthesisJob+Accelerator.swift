import HWGenerators
import HWSpec

extension SynthesisJob {
  /// `mmfree_accel` for `config`, in the bytes `hwgen emit` writes for the
  /// same lanes (so `hwgen synth` and `hwgen simulate` share cache entries).
  public static func accelerator(_ config: AcceleratorConfig) throws -> SynthesisJob {
    let design = try AcceleratorGenerator.generate(config)
    return SynthesisJob(
      name: "accelerator", files: RTLGates.Files(top: design.top.name, sources: design.files(header: UnitsBundle.header(config.core))))
  }
}
