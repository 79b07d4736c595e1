// offchip_memory.h: the off-chip memory (DDR4 or HBM) behind the accelerator's AXI4 read
// ports, cycle by cycle at the accelerator's clock (the extern "C" side is in hw_shim.h).
//
// Ports 0 .. ports-1 are the weight ports (each holds its slice of every weight beat); port
// `ports` is the vector port, which reads port 0's bytes. A port takes AR bursts while it
// has fewer than maxOutstanding accepted and not wholly answered, and returns them in
// order, at most one R beat a cycle.
//
// Bandwidth: the profile's usable bandwidth in bytes per cycle (channels x peak x usable
// fraction, the channels interleaved at burst granularity), shared by the ports: the
// vector port first, then the weight ports taking turns a beat at a time. The bank of
// unused bandwidth holds at most one cycle's worth plus the largest of a burst and a beat,
// so an idle spell cannot pay for a later burst above the limit.
// Latency: a beat arrives latency cycles after the memory moved it.
// Contents: each port's bytes from address 0; a beat past them answers DECERR.
// Not modelled: banks, rows, refresh and per-channel queues (the usable fraction stands for
// them).

#ifndef OFFCHIP_MEMORY_H_
#define OFFCHIP_MEMORY_H_

#include <cstdint>
#include <deque>
#include <vector>

namespace hw_mem {

struct MemoryConfig {
  int ports = 1;                 // weight ports; the vector port is port `ports`
  int portBeatBytes = 64;
  int vectorBeatBytes = 64;
  double bytesPerCycle = 1;
  uint64_t latency = 0;
  int burstBytes = 64;
  uint64_t maxOutstanding = 16;
  int lanesPerPort = 1;          // core lanes in a weight port's beat, 16 bytes each
};

struct MemoryStats {
  uint64_t cycles = 0;
  uint64_t busyCycles = 0;       // cycles the memory moved data
  uint64_t weightBytes = 0;      // whole beats moved for the weight ports
  uint64_t vectorBytes = 0;
  uint64_t nonZeroWeights = 0;   // in the weight beats taken
};

class OffChipMemory {
 public:
  explicit OffChipMemory(const MemoryConfig& config);

  const MemoryConfig& config() const { return config_; }
  const MemoryStats& stats() const { return stats_; }
  int vectorPort() const { return config_.ports; }
  int beatBytes(int port) const { return port == vectorPort() ? config_.vectorBeatBytes : config_.portBeatBytes; }

  // Weight port `port`'s bytes from address 0.
  void load(int port, const uint8_t* bytes, uint64_t count);
  // ARREADY: fewer than maxOutstanding bursts accepted and unanswered.
  bool acceptsBurst(int port) const;
  // An AR handshake: `beats` beats from `address`.
  void acceptBurst(int port, uint64_t address, uint64_t beats);
  // RVALID: the oldest beat has arrived.
  bool beatAvailable(int port) const;
  // The address and RLAST of the oldest arrived beat.
  uint64_t nextAddress(int port) const { return state_[port].arrived.front().address; }
  bool nextLast(int port) const { return state_[port].arrived.front().last; }
  // The beat at `address` into `words` (32-bit, least significant first); false past the
  // port's bytes (DECERR), the words then zero.
  bool readBeat(int port, uint64_t address, uint32_t* words) const;
  // The RVALID/RREADY handshake of the oldest beat, whose data `words` held.
  void takeBeat(int port, const uint32_t* words);
  // One clock cycle: move beats with the bandwidth available.
  void tick();

 private:
  struct Burst {
    uint64_t address;
    uint64_t beats;
    uint64_t moved;
  };
  struct Beat {
    uint64_t cycle;  // arrives
    uint64_t address;
    bool last;
  };
  struct Port {
    std::deque<Burst> moving;
    std::deque<Beat> arrived;
    uint64_t outstanding = 0;
  };
  void moveBeat(int port);

  MemoryConfig config_;
  MemoryStats stats_;
  std::vector<std::vector<uint8_t>> bytes_;
  std::vector<Port> state_;
  int nextPort_ = 0;
  double credit_ = 0;
};

}  // namespace hw_mem

#endif  // OFFCHIP_MEMORY_H_
