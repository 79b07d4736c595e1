import HWDSL
import HWSpec

extension AcceleratorGenerator {
  /// What every section of `mmfree_accel` shares: the builder, the
  /// configuration, the ports and the on-chip buffers with their address types.
  struct Top {
    let m: ModuleBuilder
    let config: AcceleratorConfig
    let io: TopPorts
    let scratch0: ModuleBuilder.MemoryHandle
    let scratch1: ModuleBuilder.MemoryHandle
    let params: ModuleBuilder.MemoryHandle
    /// Scratchpad and parameter buffer addresses.
    let sType: HWType
    let pType: HWType
    /// Load destinations address either buffer.
    let dstType: HWType

    /// Elements per beat.
    var e: Int { config.elementLanes }
    var beatBits: Int { 32 * config.elementLanes }

    /// Declares the ports, then the scratchpad copies and the parameter buffer.
    init(_ m: ModuleBuilder, _ config: AcceleratorConfig) {
      self.m = m
      self.config = config
      io = TopPorts(m, config)
      let beatBits = 32 * config.elementLanes
      scratch0 = m.memory("scratch_a", depth: config.scratchpadBeats, .uint(beatBits))
      scratch1 = m.memory("scratch_b", depth: config.scratchpadBeats, .uint(beatBits))
      params = m.memory("param_mem", depth: config.parameterBeats, .uint(beatBits))
      sType = HWType.uint(scratch0.addressWidth)
      pType = HWType.uint(params.addressWidth)
      dstType = HWType.uint(max(sType.width, pType.width))
    }

    /// `x` truncated or zero-extended to `t`'s width.
    func fit(_ x: Expr, _ t: HWType) -> Expr { x.width > t.width ? x.truncated(to: t.width) : x.extended(to: t.width) }
  }
}
