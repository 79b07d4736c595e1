/// One DRAM channel's organisation and JEDEC timing, as the off-chip memory model
/// (`Sim/verilator/offchip_memory.h`) schedules its commands: a DDR4 channel or an HBM2
/// pseudo-channel. Timing is in clock cycles (tCK) at `clockMHz`, the speed bin's clock.
/// A profile's memory `type` names its preset (`forMemory`).
public struct DRAMTiming: Hashable, Sendable {
  public let name: String
  /// The speed bin's clock; the data bus moves `busBytes` on both edges.
  public let clockMHz: Double
  public let busBytes: Int
  /// Beats of one column read (BL).
  public let burstLength: Int
  public let bankGroups: Int
  public let banksPerGroup: Int
  /// One bank's row (page) across the channel's devices.
  public let rowBytes: Int
  /// CL, tRCD, tRP, tRAS, tRTP, tCCD_S, tCCD_L, tRRD_S, tRRD_L, tFAW, tREFI, tRFC in tCK.
  public let cl, rcd, rp, ras, rtp, ccdS, ccdL, rrdS, rrdL, faw, refi, rfc: Int
  public let source: String

  /// Bytes of one column read, and the clocks it holds the data bus.
  public var burstBytes: Int { busBytes * burstLength }
  public var burstCycles: Int { burstLength / 2 }
  public var peakGBps: Double { clockMHz * 1e6 * 2 * Double(busBytes) / 1e9 }
  /// A read of a closed row with an idle bus: ACT to the burst's last beat, in ns.
  public var closedRowReadNs: Double { Double(rcd + cl + burstCycles) * 1000 / clockMHz }

  /// The options of `hw_mem_option` that set this timing.
  public var memoryOptions: [String: Double] {
    [
      "dram_clock_mhz": clockMHz, "burst_bytes": Double(burstBytes), "burst_cycles": Double(burstCycles),
      "bank_groups": Double(bankGroups), "banks_per_group": Double(banksPerGroup), "row_bytes": Double(rowBytes),
      "cl": Double(cl), "rcd": Double(rcd), "rp": Double(rp), "ras": Double(ras), "rtp": Double(rtp),
      "ccd_s": Double(ccdS), "ccd_l": Double(ccdL), "rrd_s": Double(rrdS), "rrd_l": Double(rrdL),
      "faw": Double(faw), "refi": Double(refi), "rfc": Double(rfc),
    ]
  }

  /// DDR4-2400R (16-16-16) on a 64-bit channel of x8 8 Gb devices: 16 banks in 4 groups,
  /// 1 KB page per device, 8 KB per row across the channel.
  public static let ddr4_2400 = DRAMTiming(
    name: "DDR4-2400R", clockMHz: 1200, busBytes: 8, burstLength: 8, bankGroups: 4, banksPerGroup: 4,
    rowBytes: 8192, cl: 16, rcd: 16, rp: 16, ras: 39, rtp: 9, ccdS: 4, ccdL: 6, rrdS: 4, rrdL: 6, faw: 26,
    refi: 9360, rfc: 420,
    source: """
      JEDEC JESD79-4 DDR4 SDRAM: speed bin DDR4-2400R CL-tRCD-tRP 16-16-16 at tCK 0.833 ns; \
      tRAS 32 ns, tRTP max(4 nCK, 7.5 ns), tCCD_S 4 nCK, tCCD_L max(5 nCK, 5 ns), \
      tRRD_S/tRRD_L max(4 nCK, 3.3/4.9 ns) and tFAW max(20 nCK, 21 ns) for 1 KB pages (x8), \
      tREFI 7.8 us and tRFC 350 ns for 8 Gb devices; BL8 on a 64-bit channel
      """)

  /// HBM2 pseudo-channel mode (the U280's stacks): a 64-bit pseudo-channel, BL4, 16 banks
  /// in 4 groups, 1 KB rows.
  public static let hbm2 = DRAMTiming(
    name: "HBM2 pseudo-channel", clockMHz: 900, busBytes: 8, burstLength: 4, bankGroups: 4, banksPerGroup: 4,
    rowBytes: 1024, cl: 14, rcd: 13, rp: 13, ras: 30, rtp: 5, ccdS: 2, ccdL: 4, rrdS: 4, rrdL: 6, faw: 27,
    refi: 3510, rfc: 234,
    source: """
      AXI High Bandwidth Memory Controller (AMD PG276), 'Raw Throughput Evaluation': 900 MHz, \
      64-bit pseudo-channels, tREFI 3.9 us and tRFC 260 ns for 4H stacks; JEDEC JESD235A HBM: \
      BL4 in pseudo-channel mode, 4 bank groups; core timing (tRCD 14 ns, tRP 14 ns, tRAS 33 ns, \
      RL 14, tFAW 30 ns) are typical values of 2 Gb/s-class HBM2 parts, an assumption: the \
      stacks' own datasheet is not public
      """)

  /// The preset of a profile's memory type ("DDR4-2400", "HBM2").
  public static func forMemory(type: String) -> DRAMTiming? {
    switch type {
    case "DDR4-2400": ddr4_2400
    case "HBM2": hbm2
    default: nil
    }
  }
}
