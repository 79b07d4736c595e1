// offchip_memory.cpp: the off-chip memory model (offchip_memory.h) and its extern "C"
// functions (hw_shim.h).

#include "offchip_memory.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "hw_shim.h"

namespace hw_mem {

OffChipMemory::OffChipMemory(const MemoryConfig& config)
    : config_(config),
      bytes_(static_cast<std::size_t>(config.ports)),
      state_(static_cast<std::size_t>(config.ports) + 1) {}

void OffChipMemory::load(int port, const uint8_t* bytes, uint64_t count) {
  bytes_[static_cast<std::size_t>(port)].assign(bytes, bytes + count);
}

bool OffChipMemory::acceptsBurst(int port) const { return state_[port].outstanding < config_.maxOutstanding; }

void OffChipMemory::acceptBurst(int port, uint64_t address, uint64_t beats) {
  state_[port].moving.push_back(Burst{address, beats, 0});
  ++state_[port].outstanding;
}

bool OffChipMemory::beatAvailable(int port) const {
  const Port& p = state_[port];
  return !p.arrived.empty() && p.arrived.front().cycle <= stats_.cycles;
}

bool OffChipMemory::readBeat(int port, uint64_t address, uint32_t* words) const {
  const uint64_t bytes = static_cast<uint64_t>(beatBytes(port));
  const std::vector<uint8_t>& image = bytes_[port == vectorPort() ? 0 : static_cast<std::size_t>(port)];
  if (address + bytes > image.size()) {
    std::memset(words, 0, bytes);
    return false;
  }
  std::memcpy(words, image.data() + address, bytes);
  return true;
}

void OffChipMemory::takeBeat(int port, const uint32_t* words) {
  if (port != vectorPort()) {
    // Each lane's slice is a (non-zero, negative) pair of 64-bit words.
    for (int lane = 0; lane < config_.lanesPerPort; ++lane) {
      const uint64_t nonZero = uint64_t{words[4 * lane]} | uint64_t{words[4 * lane + 1]} << 32;
      stats_.nonZeroWeights += static_cast<uint64_t>(__builtin_popcountll(nonZero));
    }
  }
  Port& p = state_[port];
  if (p.arrived.front().last) --p.outstanding;
  p.arrived.pop_front();
}

void OffChipMemory::tick() {
  ++stats_.cycles;
  const double bank = config_.bytesPerCycle +
                      static_cast<double>(std::max({config_.burstBytes, config_.portBeatBytes, config_.vectorBeatBytes}));
  credit_ = std::min(credit_ + config_.bytesPerCycle, bank);
  bool moved = false;
  Port& vector = state_[vectorPort()];
  const double vectorBeat = config_.vectorBeatBytes, portBeat = config_.portBeatBytes;
  while (!vector.moving.empty() && credit_ >= vectorBeat) {
    credit_ -= vectorBeat;
    stats_.vectorBytes += static_cast<uint64_t>(config_.vectorBeatBytes);
    moveBeat(vectorPort());
    moved = true;
  }
  if (vector.moving.empty()) {
    int idle = 0;
    while (credit_ >= portBeat && idle < config_.ports) {
      const int p = nextPort_;
      nextPort_ = (nextPort_ + 1) % config_.ports;
      if (state_[p].moving.empty()) {
        ++idle;
        continue;
      }
      idle = 0;
      credit_ -= portBeat;
      stats_.weightBytes += static_cast<uint64_t>(config_.portBeatBytes);
      moveBeat(p);
      moved = true;
    }
  }
  if (moved) ++stats_.busyCycles;
}

void OffChipMemory::moveBeat(int port) {
  Port& p = state_[port];
  Burst& burst = p.moving.front();
  const bool last = burst.moved + 1 == burst.beats;
  p.arrived.push_back(Beat{stats_.cycles + config_.latency,
                           burst.address + burst.moved * static_cast<uint64_t>(beatBytes(port)), last});
  ++burst.moved;
  if (last) p.moving.pop_front();
}

}  // namespace hw_mem

// --- The C interface ----------------------------------------------------------------------

namespace {

hw_mem::OffChipMemory* offChipMemory(void* handle) { return static_cast<hw_mem::OffChipMemory*>(handle); }
const hw_mem::OffChipMemory* offChipMemory(const void* handle) { return static_cast<const hw_mem::OffChipMemory*>(handle); }

}  // namespace

extern "C" {

void* hw_mem_create(int ports, int port_beat_bytes, int vector_beat_bytes, double bytes_per_cycle, uint64_t latency,
                    int burst_bytes, uint64_t max_outstanding, int lanes_per_port) {
  if (ports < 1 || port_beat_bytes % 4 != 0 || vector_beat_bytes % 4 != 0 || bytes_per_cycle <= 0 ||
      lanes_per_port * 16 > port_beat_bytes) {
    return nullptr;
  }
  hw_mem::MemoryConfig c;
  c.ports = ports;
  c.portBeatBytes = port_beat_bytes;
  c.vectorBeatBytes = vector_beat_bytes;
  c.bytesPerCycle = bytes_per_cycle;
  c.latency = latency;
  c.burstBytes = burst_bytes;
  c.maxOutstanding = max_outstanding;
  c.lanesPerPort = lanes_per_port;
  try {
    return new hw_mem::OffChipMemory(c);
  } catch (...) {
    return nullptr;
  }
}

void hw_mem_destroy(void* handle) { delete offChipMemory(handle); }

void hw_mem_load(void* handle, int port, const uint8_t* bytes, uint64_t count) {
  offChipMemory(handle)->load(port, bytes, count);
}

int hw_mem_accepts_burst(const void* handle, int port) { return offChipMemory(handle)->acceptsBurst(port) ? 1 : 0; }

void hw_mem_accept_burst(void* handle, int port, uint64_t address, uint64_t beats) {
  offChipMemory(handle)->acceptBurst(port, address, beats);
}

int hw_mem_beat_available(const void* handle, int port) { return offChipMemory(handle)->beatAvailable(port) ? 1 : 0; }

uint64_t hw_mem_next_beat(const void* handle, int port, int* last) {
  const hw_mem::OffChipMemory* m = offChipMemory(handle);
  if (last != nullptr) *last = m->nextLast(port) ? 1 : 0;
  return m->nextAddress(port);
}

int hw_mem_read_beat(const void* handle, int port, uint64_t address, uint32_t* words) {
  return offChipMemory(handle)->readBeat(port, address, words) ? 1 : 0;
}

void hw_mem_take_beat(void* handle, int port, const uint32_t* words) { offChipMemory(handle)->takeBeat(port, words); }

void hw_mem_tick(void* handle) { offChipMemory(handle)->tick(); }

uint64_t hw_mem_stat(const void* handle, const char* name) {
  const hw_mem::MemoryStats& s = offChipMemory(handle)->stats();
  const std::string key = name;
  if (key == "cycles") return s.cycles;
  if (key == "busy_cycles") return s.busyCycles;
  if (key == "weight_bytes") return s.weightBytes;
  if (key == "vector_bytes") return s.vectorBytes;
  if (key == "non_zero_weights") return s.nonZeroWeights;
  return UINT64_MAX;
}

}  // extern "C"
