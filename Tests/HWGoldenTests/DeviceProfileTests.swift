import HWSpec
import Testing

@Suite struct DeviceProfileTests {
  @Test func bundledProfilesDecodeWithSources() throws {
    #expect(DeviceProfile.all.map(\.name) == ["d5005", "kv260", "u250", "u280"])
    for profile in DeviceProfile.all {
      #expect(!profile.sources.isEmpty, "\(profile.name) cites no source")
      #expect(profile.memory.usableFraction > 0 && profile.memory.usableFraction <= 1)
      #expect(profile.defaultClockMHz > 0)
    }
  }

  @Test func everyBundledProfileNamesItsVendorPartWithASource() throws {
    let parts = Dictionary(uniqueKeysWithValues: DeviceProfile.all.map { ($0.name, $0.part) })
    #expect(parts == [
      "d5005": "1SX280HN2F43E2VG", "kv260": "xck26-sfvc784-2LV-c", "u250": "xcu250-figd2104-2L-e",
      "u280": "xcu280-fsvh2892-2L-e",
    ])
    for profile in DeviceProfile.all {
      let part = try #require(profile.part)
      #expect(profile.sources.contains { $0.contains(part) }, "\(profile.name): no source names \(part)")
    }
  }

  @Test func peakBandwidthsMatchTheDatasheets() throws {
    // D5005: 4 x DDR4-2400 = 76.8 GB/s; U280: 32 HBM2 pseudo channels x 14.375 GB/s = 460 GB/s.
    #expect(abs(try DeviceProfile.named("d5005").memory.peakGBps - 76.8) < 1e-9)
    #expect(abs(try DeviceProfile.named("u280").memory.peakGBps - 460) < 1e-9)
    #expect(throws: DeviceProfile.Unknown.self) { try DeviceProfile.named("zcu102") }
  }
}
