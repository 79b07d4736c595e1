// axi_rules.h: what both AXI4 read harnesses (axi_mem_slave.h, accel_harness.h) check on a
// master's AR channel, and the seeded dice of their fault injection, written once.
//
// An AR sample is the channel's signals at an edge. The rules: an address waiting for
// ARREADY keeps ARVALID high and its payload unchanged; an accepted burst is INCR, of the
// bus's data width (ARSIZE), within the burst limit, beat-aligned and inside one 4 KiB page.

#ifndef AXI_RULES_H_
#define AXI_RULES_H_

#include <cstdint>

namespace hw_axi_rules {

struct ArSample {
  bool valid = false;
  uint64_t address = 0, length = 0, size = 0, burst = 0, id = 0;
};

// What broke the hold rule between the sample `held` (valid and not accepted at the last
// edge) and `now`, or nullptr.
inline const char* heldArProblem(const ArSample& held, const ArSample& now) {
  if (!held.valid) return nullptr;
  if (!now.valid) return "ARVALID dropped before ARREADY";
  if (now.address != held.address || now.length != held.length || now.size != held.size ||
      now.burst != held.burst || now.id != held.id) {
    return "AR payload changed while ARVALID waited";
  }
  return nullptr;
}

// What is wrong with the burst `ar` accepted on a bus of `beatBytes` bytes a beat, or nullptr.
inline const char* burstProblem(const ArSample& ar, uint64_t beatBytes, uint64_t maxBurstBeats) {
  const uint64_t beats = ar.length + 1;
  if (ar.burst != 1) return "is not INCR";
  if ((uint64_t{1} << ar.size) != beatBytes) return "has an ARSIZE other than the data width";
  if (beats > maxBurstBeats) return "is longer than the burst limit";
  if (ar.address % beatBytes != 0) return "is not beat-aligned";
  if ((ar.address & 0xFFF) + beats * beatBytes > 4096) return "crosses a 4 KiB boundary";
  return nullptr;
}

// Seeded fault dice: SplitMix64, the sequence of HWSupport's SeededRandom, so a fault run
// is the same on every platform and from either harness.
class FaultDice {
 public:
  void seed(uint64_t seed) {
    state_ = seed;
    seeded_ = true;
  }
  // True with `percent` in 100 (never for 0, without a draw). Seeds with `seed` on first use.
  bool roll(uint64_t percent, uint64_t seed) {
    if (percent == 0) return false;
    if (!seeded_) this->seed(seed);
    state_ += 0x9E3779B97F4A7C15ull;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return z % 100 < percent;
  }

 private:
  uint64_t state_ = 0;
  bool seeded_ = false;
};

}  // namespace hw_axi_rules

#endif  // AXI_RULES_H_
