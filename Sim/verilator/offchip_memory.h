// offchip_memory.h: the off-chip memory (DDR4 or HBM) behind the accelerator's AXI4 read
// ports, cycle by cycle at the accelerator's clock (the extern "C" side is in hw_shim.h).
//
// Ports 0 .. ports-1 are the weight ports (each holds its slice of every weight beat); port
// `ports` is the vector port, whose address names the port whose bytes it reads in bits
// vectorPortShift and up (the channels' windows in the interconnect's address map). A port takes AR bursts while it
// has fewer than maxOutstanding accepted and not wholly answered, and returns them in
// order, at most one R beat a cycle.
//
// Channels: weight port p sits on channel p % channels, the vector port's reads on the
// channel of the port they name (the
// weight ports sharing a channel a bank apart: they read the same addresses in lockstep,
// each its slice of one weight beat, so they never fight over a bank's row). Each
// channel is a DRAM channel (a DDR4 channel or an HBM2 pseudo-channel) at its own clock
// with JEDEC timing (DramTiming): banks in bank groups with an open row each, ACT/RD/PRE
// under tRCD, tRP, tRAS, tRTP, tCCD_S/L, tRRD_S/L and tFAW, all-bank refresh every tREFI
// for tRFC, one data burst on the bus at a time. Its controller takes the vector port's
// reads first, then the weight ports' a beat at a time in turn, a port whose next read
// hits an open row in another bank group before one in the same group, and row hits
// before misses (FR-FCFS across ports; each port's reads stay in order); it opens the next row of another bank as early as the timing allows
// and closes a row only when a read needs another one in its bank (open page). Addresses map as
// row : bank : column : bank group : byte in burst, so a sequential stream alternates
// bank groups burst by burst (tCCD_S) and moves to a new bank one row at a time.
// Latency: data leaves the controller frontLatencyNs after the burst's last beat (the
// controller, PHY and interconnect pipeline), so an idle read of a closed row takes
// frontLatencyNs + tRCD + CL + the burst.
// Contents: each port's bytes from address 0; a beat past them answers DECERR.
// Not modelled: writes (the accelerator only reads), rank switching, refresh postponing,
// per-bank refresh, temperature-dependent refresh rates.

#ifndef OFFCHIP_MEMORY_H_
#define OFFCHIP_MEMORY_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace hw_mem {

// One DRAM channel's organisation and timing, in its clock cycles (tCK).
struct DramTiming {
  double clockMHz = 1200;   // tCK = 1 / clockMHz
  int burstBytes = 64;      // one column read: the bus width times the burst length
  int burstCycles = 4;      // clocks a burst holds the data bus
  int bankGroups = 4;
  int banksPerGroup = 4;
  int rowBytes = 8192;      // one bank's row across the channel's devices
  int cl = 16, rcd = 16, rp = 16, ras = 39, rtp = 9;
  int ccdS = 4, ccdL = 6, rrdS = 4, rrdL = 6, faw = 26;
  int refi = 9360, rfc = 420;
};

struct MemoryConfig {
  int ports = 1;                 // weight ports; the vector port is port `ports`
  int portBeatBytes = 64;
  int vectorBeatBytes = 64;
  int channels = 1;
  double clockMHz = 300;         // the accelerator's clock
  double frontLatencyNs = 0;
  int vectorPortShift = 36;      // the vector port's address names a port in these bits and up
  uint64_t maxOutstanding = 16;
  int lanesPerPort = 1;          // core lanes in a weight port's beat, 16 bytes each
  DramTiming dram;
};

// A DRAM channel's command scheduler: each read gets the earliest ACT (when its row is
// not open) and RD the timing allows, in the order they come.
class DramChannel {
 public:
  explicit DramChannel(const DramTiming& timing);
  // A column read of the burst at `address`, known to the controller at `arrival`
  // (tCK, not before the previous read's arrival); returns the tCK its data ends.
  uint64_t read(uint64_t address, uint64_t arrival);
  // What a read of the burst at `address` costs now: 0 a row hit in another bank group
  // than the last read's, 1 a row hit in the same group (tCCD_L), 2 a row miss.
  int cost(uint64_t address) const;
  // The tCK of the last RD issued.
  uint64_t lastRead() const { return lastRd_; }
  uint64_t activates() const { return activates_; }
  uint64_t refreshes() const { return refreshes_; }

 private:
  struct Bank {
    int64_t row = -1;       // the open row, -1 closed
    uint64_t actAt = 0;     // earliest ACT
    uint64_t rdAt = 0;      // earliest RD (tRCD after the ACT)
    uint64_t preAt = 0;     // earliest PRE (tRAS after ACT, tRTP after the last RD)
  };
  struct Place {
    std::size_t group;  // bank group
    std::size_t bank;   // index into banks_
    int64_t row;
  };
  Place place(uint64_t address) const;

  DramTiming t_;
  std::vector<Bank> banks_;
  std::vector<uint64_t> lastRdInGroup_, lastActInGroup_;
  uint64_t lastRd_ = 0, lastAct_ = 0;
  std::size_t lastGroup_ = 0;
  bool anyRd_ = false, anyAct_ = false;
  uint64_t acts_[4] = {0, 0, 0, 0};  // the last four ACTs, for tFAW
  uint64_t actCount_ = 0;
  uint64_t nextRefresh_;
  uint64_t activates_ = 0, refreshes_ = 0;
};

struct MemoryStats {
  uint64_t cycles = 0;
  uint64_t busyCycles = 0;       // cycles a channel started moving data
  uint64_t weightBytes = 0;      // whole beats moved for the weight ports
  uint64_t vectorBytes = 0;
  uint64_t nonZeroWeights = 0;   // in the weight beats taken
};

class OffChipMemory {
 public:
  explicit OffChipMemory(const MemoryConfig& config);

  // Sets a MemoryConfig or DramTiming field by name (hw_shim.h lists them) before the
  // first tick; false for an unknown name, a value out of range, or after the first tick.
  bool option(const std::string& name, double value);

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
  // One clock cycle: the channels schedule the reads due by its end.
  void tick();
  uint64_t activates() const;
  uint64_t refreshes() const;

 private:
  struct Burst {
    uint64_t address;
    uint64_t beats;
    uint64_t moved;
    uint64_t accepted;  // the AR handshake's cycle
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
    int channel = 0;
    uint64_t lastDramBurst = UINT64_MAX;  // the DRAM burst the last beat read
    uint64_t lastDataEnd = 0;             // its data's last tCK
  };
  // The port whose bytes an address on `port` reads (the vector port's names it in its
  // high bits), -1 for none.
  int target(int port, uint64_t address) const;
  // The port whose bytes `port`'s next burst reads (0 for an address naming none).
  int owner(int port) const;
  // The channel `port`'s next burst reads from.
  int channelOf(int port) const;
  // The channel address of `port`'s next beat.
  uint64_t dramAddress(int port) const;
  // Schedules `port`'s next beat on its channel.
  void moveBeat(int port);
  uint64_t toCycle(uint64_t dramCycle) const;
  // The channels and the ports' places on them, from config_.
  void build();

  MemoryConfig config_;
  MemoryStats stats_;
  std::vector<std::vector<uint8_t>> bytes_;
  std::vector<Port> state_;
  std::vector<DramChannel> channels_;
  std::vector<int> nextPort_;  // per channel: the weight port whose turn it is
  double dramPerCycle_;        // tCK per accelerator cycle
};

}  // namespace hw_mem

#endif  // OFFCHIP_MEMORY_H_
