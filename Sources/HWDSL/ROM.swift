/// Constant tables. A ROM is built once (`rom`), read through wires
/// (`wire(_:reading:at:)`), checked like any other driver, and printed as a
/// case table, one arm a line, the addresses that hold the same entry sharing
/// an arm:
///
///     // Entry k: {slope (11 bits), table[k] (17 bits)}, Q15.16.
///     always_comb begin
///       unique case (index)
///         8'd0: rom_entry = 28'h8008000;
///         ...
///         8'd189, 8'd190, 8'd191, ..., 8'd255: rom_entry = 28'h0010000;
///         default: rom_entry = 28'd0;
///       endcase
///     end
///
/// Why a case and not a `localparam` array or a hex file, tried on the tools
/// the gates run (`verilator --lint-only -Wall`, `iverilog -g2012` + `vvp`,
/// `yosys read_verilog -sv; synth`):
/// - An unpacked array parameter (`localparam logic [27:0] T [256] = '{...}`)
///   is a syntax error in Icarus 11 and in Yosys 0.23.
/// - A packed two-dimensional one (`localparam logic [255:0][27:0] T`) is a
///   syntax error in Yosys 0.23 and trips an assertion in Icarus 11
///   (`pform_set_localparam: range->size() == 1`).
/// - A flat vector read by an indexed part-select (`T[k*32 +: 28]`) is
///   accepted by all three, but Yosys 0.23 lowers it to a `$shiftx` over the
///   whole constant: synthesizing `mlgru_sigmoid` took 632 s and 400 MB
///   instead of 7 s (and with a stride that is not a power of two, `k * 28`
///   is a multiplier). The accelerator has 32 sigmoids.
/// - `$readmemh` works in all three, but the file is opened relative to the
///   simulator's or synthesizer's working directory, so the Verilator model,
///   the Icarus benches, Yosys and every filelist would carry its path.
/// A case is what Yosys' `proc_rom` recognizes as a ROM, Verilator and
/// Icarus read without complaint, and a reader scans like a table.
public struct ROM: Hashable, Sendable {
  /// What the checks call it, UpperCamelCase.
  public let name: String
  public let type: HWType
  /// Entry k is read at address k.
  public let entries: [Literal]
  public let comment: String?
  public let location: SourceLocation

  public var addressWidth: Int { max(1, ceilLog2(entries.count)) }
}

/// `target` = the entry at `address`.
public struct ROMRead: Hashable, Sendable {
  public let rom: Int
  public let target: SignalID
  public let address: Expr
  public let location: SourceLocation
}

extension ModuleBuilder {
  public struct ROMHandle {
    public let index: Int
    public let type: HWType
    public let depth: Int
  }

  /// A constant table of `entries` (two's complement in `type`'s width).
  /// Its depth must be a power of two, so that every address reads an entry.
  public func rom(
    _ name: String, _ type: HWType, entries: [Int], comment: String? = nil,
    file: StaticString = #fileID, line: UInt = #line
  ) -> ROMHandle {
    let rom = ROM(
      name: name, type: type, entries: entries.map { Literal($0, type) }, comment: comment,
      location: SourceLocation(file, line))
    return ROMHandle(index: addROM(rom), type: type, depth: entries.count)
  }

  /// A wire driven by the entry of `rom` at `address`.
  public func wire(
    _ name: String, reading rom: ROMHandle, at address: Expr, comment: String? = nil,
    file: StaticString = #fileID, line: UInt = #line
  ) -> Expr {
    let w = wire(name, rom.type, comment: comment, file: file, line: line)
    guard case .signal(let id) = w.node else { fatalError("unreachable") }
    addROMRead(ROMRead(rom: rom.index, target: id, address: address, location: SourceLocation(file, line)))
    return w
  }
}
