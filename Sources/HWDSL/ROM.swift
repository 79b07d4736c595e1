/// Constant tables: a ROM is printed as one `localparam` bit vector holding
/// every entry, and read with an indexed part-select:
///
///     localparam int SigmoidTableBits = 28;
///     localparam int SigmoidTableStride = 32;
///     localparam logic [256*SigmoidTableStride-1:0] SigmoidTable = {
///       {67{32'h00010000}}, 32'h0002ffff, ...  // 255:163
///     };
///     assign rom_entry = SigmoidTable[index*SigmoidTableStride +: SigmoidTableBits];
///
/// Entries sit a power of two apart (the stride), so the index scales by a
/// shift: with a stride of 28, Yosys would see `index * 28` as a multiplier
/// (the multiplier gates count it, and an FPGA flow may give it a DSP block).
///
/// Why this spelling: it is the one form Verilator 5.006, Icarus 11 and
/// Yosys 0.23 all accept (tried with `verilator --lint-only -Wall`,
/// `iverilog -g2012` + `vvp`, `yosys read_verilog -sv; synth`).
/// - An unpacked array parameter (`localparam logic [28:0] T [256] = '{...}`)
///   is a syntax error in both Icarus 11 and Yosys 0.23.
/// - A packed two-dimensional one (`localparam logic [255:0][28:0] T`) is a
///   syntax error in Yosys 0.23 and trips an assertion in Icarus 11
///   (`pform_set_localparam: range->size() == 1`).
/// - `$readmemh` hex files work in all three, but the file is opened relative
///   to the simulator's or synthesizer's working directory, so every build and
///   filelist would have to carry a path; a constant in the source needs none.
/// Yosys turns the part-select into LUT logic (`$shiftx`), the same as the
/// `case` table it replaces; no latch, no memory.
///
/// Runs of four or more equal entries print as a replication (`{64{31'h0}}`).
public struct ROM: Hashable, Sendable {
  /// The `localparam` name, UpperCamelCase.
  public let name: String
  public let type: HWType
  /// Entry k is read at address k.
  public let entries: [Literal]
  public let comment: String?
  public let location: SourceLocation

  public var addressWidth: Int { max(1, ceilLog2(entries.count)) }
  /// The `localparam int` naming the entry width.
  public var widthName: String { name + "Bits" }
  /// Bits from one entry to the next: the width rounded up to a power of two.
  public var stride: Int { 1 << ceilLog2(type.width) }
  /// The `localparam int` naming the stride, when it differs from the width.
  public var strideName: String { stride == type.width ? widthName : name + "Stride" }
}

/// `assign target = Table[address*TableBits +: TableBits];`
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
