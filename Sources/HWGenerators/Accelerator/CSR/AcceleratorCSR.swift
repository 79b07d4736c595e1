import HWDSL
import HWSpec

/// `mmfree_csr`: the accelerator's control/status registers behind an
/// AXI4-Lite subordinate port (`AXILiteBundle`, 32-bit data, no AxPROT).
/// A host programs and starts the core, feeds prompt tokens, collects
/// generated tokens, reads errors and performance counters, and takes an
/// interrupt (`irq_o`, a level) through it.
///
/// Register map (byte offsets; every register 32 bits, reset value 0):
///
/// | offset | name | access | contents |
/// |---|---|---|---|
/// | 0x00 | CTRL | W | bit 0 START: pulse `start_o` (ignored while `busy_i`; clears DONE and TOKEN_OVERFLOW); bit 1 SNAPSHOT: pulse `perf_snapshot_o`; bit 2 LOAD: pulse `load_o` (SLVERR while `busy_i`, with START, or with PROG_COUNT 0) |
/// | 0x04 | STATUS | R | bit 0 BUSY (`busy_i`), 1 DONE (busy fell; cleared by START), 2 ERROR (`err_i`), 3 PROMPT_FULL, 4 TOKEN_AVAILABLE, 5 TOKEN_OVERFLOW (sticky: a token was lost) |
/// | 0x08 | TOKENS | RW | `tokens_o`: the tokens a START runs |
/// | 0x0C | PROMPT | W | pushes `wdata[tokenBits-1:0]` into the prompt FIFO; when full, SLVERR and nothing pushed |
/// | 0x10 | TOKEN | R | pops the oldest generated token: bit 31 valid, `[tokenBits-1:0]` the token; 0 when empty, nothing popped |
/// | 0x14 | IRQ_ENABLE | RW | bit 0 done, 1 error, 2 token |
/// | 0x18 | IRQ_STATUS | R, W1C | bit 0 done (busy fell), 1 error (`err_i` rose), 2 token (one entered the FIFO) |
/// | 0x1C | ERROR | R | `[codeBits-1:0]` `mem_err_i`, `[8 +: portBits]` `mem_err_port_i`, bit 16 `err_i` |
/// | 0x20 | ERROR_ADDR_LO | R | `mem_err_addr_i[31:0]` |
/// | 0x24 | ERROR_ADDR_HI | R | `mem_err_addr_i[63:32]` (the bits there are) |
/// | 0x28 | PROG_BASE_LO | RW | `prog_base_o[31:0]`: the program's byte address; SLVERR while busy, off the alignment or beyond the address |
/// | 0x2C | PROG_BASE_HI | RW | `prog_base_o[63:32]` (the bits there are); SLVERR while busy or beyond the address |
/// | 0x30 | ID | R | 0x4D4D4641 ("MMFA") |
/// | 0x34 | COUNTERS | R | the number of counters |
/// | 0x38 | PROG_COUNT | RW | `prog_count_o`: the instructions a LOAD reads; SLVERR while busy or above `programDepth` |
/// | 0x40 + 8 i, 0x44 + 8 i | counter i | R | the snapshot of counter i, low and high 32 bits (`perf_sel_o` = i) |
///
/// Every other access (an unlisted offset, a read of a W register, a write
/// of an R one) answers SLVERR, reads 0 and changes nothing. A write whose
/// WSTRB is not 4'hF answers SLVERR and changes nothing. Offset bits [1:0]
/// are ignored (byte lanes are WSTRB's).
///
/// AXI4-Lite: AW and W are taken in any order or together, each into a
/// holding register; the write happens when both are held and no B
/// response waits, one B and one R response outstanding at a time, BVALID
/// and RVALID holding their payload until taken. A read takes AR into a
/// register and answers the next cycle, `perf_sel_o` driven from that
/// register, so `perf_data_i` may be a combinational mux in the top.
/// `start_o`, `load_o` and `perf_snapshot_o` are registered pulses, the
/// cycle after the write; `load_o` asks the top to read PROG_COUNT
/// instructions from PROG_BASE into its program memory (its loader keeps
/// `busy_i` high meanwhile, and DONE follows).
///
/// The prompt and token FIFOs are `stream_fifo`s (`StreamFIFOGenerator`) of
/// `promptDepth` and `tokenDepth`; each holds one token more (its output
/// register). A token arriving on `token_valid_i` while the token FIFO is
/// full is lost and sets TOKEN_OVERFLOW; one that enters is readable from
/// TOKEN (and TOKEN_AVAILABLE) two cycles later.
public enum AcceleratorCSRGenerator: UnitGenerator {
  public static let unitName = "accelerator csr"
  public static let moduleName = "mmfree_csr"

  public static func manifestParameters(_ config: AcceleratorCSRConfig) -> [(key: String, value: String)] {
    [
      ("addressWidth", "\(config.addressWidth)"), ("programDepth", "\(config.programDepth)"),
      ("programBaseBits", "\(config.programBaseBits)"), ("programAlignBits", "\(config.programAlignBits)"),
      ("tokenBits", "\(config.tokenBits)"),
      ("tokensBits", "\(config.tokensBits)"), ("counters", "\(config.counters)"),
      ("counterBits", "\(config.counterBits)"), ("memoryErrorCodeBits", "\(config.memoryErrorCodeBits)"),
      ("memoryErrorPortBits", "\(config.memoryErrorPortBits)"),
      ("memoryAddressBits", "\(config.memoryAddressBits)"), ("promptDepth", "\(config.promptDepth)"),
      ("tokenDepth", "\(config.tokenDepth)"),
    ]
  }

  public static func generate(_ config: AcceleratorCSRConfig) throws -> Design {
    try config.validate()
    let prompt = try StreamFIFOGenerator.module(StreamFIFOConfig(width: config.tokenBits, depth: config.promptDepth))
    let token = try StreamFIFOGenerator.module(StreamFIFOConfig(width: config.tokenBits, depth: config.tokenDepth))
    return try Design(top: AcceleratorCSRBuilder(config, promptFIFO: prompt, tokenFIFO: token).build())
  }
}
