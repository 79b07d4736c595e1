// offchip_memory.cpp: the off-chip memory model (offchip_memory.h) and its extern "C"
// functions (hw_shim.h).

#include "offchip_memory.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "hw_shim.h"

namespace hw_mem {

DramChannel::DramChannel(const DramTiming& timing)
    : t_(timing),
      banks_(static_cast<std::size_t>(timing.bankGroups * timing.banksPerGroup)),
      lastRdInGroup_(static_cast<std::size_t>(timing.bankGroups), 0),
      lastActInGroup_(static_cast<std::size_t>(timing.bankGroups), 0),
      nextRefresh_(static_cast<uint64_t>(timing.refi)) {}

DramChannel::Place DramChannel::place(uint64_t address) const {
  // row : bank : column : bank group : byte in burst
  uint64_t rest = address / static_cast<uint64_t>(t_.burstBytes);
  const std::size_t group = static_cast<std::size_t>(rest % static_cast<uint64_t>(t_.bankGroups));
  rest /= static_cast<uint64_t>(t_.bankGroups);
  rest /= static_cast<uint64_t>(t_.rowBytes / t_.burstBytes);
  const uint64_t bankInGroup = rest % static_cast<uint64_t>(t_.banksPerGroup);
  return Place{group, group * static_cast<std::size_t>(t_.banksPerGroup) + bankInGroup,
               static_cast<int64_t>(rest / static_cast<uint64_t>(t_.banksPerGroup))};
}

int DramChannel::cost(uint64_t address) const {
  const Place at = place(address);
  if (banks_[at.bank].row != at.row) return 2;
  return anyRd_ && at.group == lastGroup_ ? 1 : 0;
}

uint64_t DramChannel::read(uint64_t address, uint64_t arrival) {
  const Place at = place(address);
  const std::size_t group = at.group;
  const int64_t row = at.row;
  Bank& bank = banks_[at.bank];
  const auto u = [](int cycles) { return static_cast<uint64_t>(cycles); };
  for (;;) {
    const bool miss = bank.row != row;
    uint64_t act = 0, rd = std::max(arrival, bank.rdAt);
    if (miss) {
      // PRE when a row is open (after tRAS, tRTP and the read's arrival), then ACT.
      act = bank.row < 0 ? std::max(arrival, bank.actAt) : std::max(arrival, bank.preAt) + u(t_.rp);
      act = std::max(act, bank.actAt);
      if (anyAct_) act = std::max({act, lastAct_ + u(t_.rrdS), lastActInGroup_[group] + u(t_.rrdL)});
      if (actCount_ >= 4) act = std::max(act, acts_[actCount_ % 4] + u(t_.faw));
      rd = act + u(t_.rcd);
    }
    if (anyRd_) rd = std::max({rd, lastRd_ + u(t_.ccdS), lastRdInGroup_[group] + u(t_.ccdL)});
    const uint64_t first = miss ? act : rd;
    if (first >= nextRefresh_) {
      // All-bank refresh: precharge every open bank, REF, tRFC; every row closed after.
      uint64_t start = nextRefresh_;
      for (const Bank& b : banks_) {
        if (b.row >= 0) start = std::max(start, b.preAt);
      }
      const uint64_t done = start + u(t_.rp) + u(t_.rfc);
      for (Bank& b : banks_) {
        b.row = -1;
        b.actAt = std::max(b.actAt, done);
      }
      nextRefresh_ += u(t_.refi);
      ++refreshes_;
      continue;
    }
    if (miss) {
      bank.row = row;
      bank.rdAt = act + u(t_.rcd);
      bank.preAt = act + u(t_.ras);
      lastAct_ = act;
      lastActInGroup_[group] = act;
      acts_[actCount_ % 4] = act;
      ++actCount_;
      anyAct_ = true;
      ++activates_;
    }
    bank.preAt = std::max(bank.preAt, rd + u(t_.rtp));
    lastRd_ = rd;
    lastGroup_ = group;
    lastRdInGroup_[group] = rd;
    anyRd_ = true;
    return rd + u(t_.cl) + u(t_.burstCycles);
  }
}

OffChipMemory::OffChipMemory(const MemoryConfig& config)
    : config_(config), bytes_(static_cast<std::size_t>(config.ports)), state_(static_cast<std::size_t>(config.ports) + 1) {
  build();
}

void OffChipMemory::build() {
  channels_.assign(static_cast<std::size_t>(config_.channels), DramChannel(config_.dram));
  nextPort_.assign(static_cast<std::size_t>(config_.channels), 0);
  for (int p = 0; p < config_.ports; ++p) state_[p].channel = p % config_.channels;
  state_[config_.ports].channel = 0;
  for (int c = 0; c < config_.channels; ++c) nextPort_[c] = c % config_.ports;
  dramPerCycle_ = config_.dram.clockMHz / config_.clockMHz;
}

bool OffChipMemory::option(const std::string& name, double value) {
  if (stats_.cycles != 0 || !(value >= 0) || value > 1e12) return false;
  DramTiming& d = config_.dram;
  const int whole = static_cast<int>(value);
  struct Field {
    const char* name;
    int* field;
    int least;
  };
  const Field fields[] = {
      {"channels", &config_.channels, 1},  {"burst_bytes", &d.burstBytes, 1}, {"burst_cycles", &d.burstCycles, 1},
      {"bank_groups", &d.bankGroups, 1},   {"banks_per_group", &d.banksPerGroup, 1},
      {"row_bytes", &d.rowBytes, 1},       {"cl", &d.cl, 0},     {"rcd", &d.rcd, 0},     {"rp", &d.rp, 0},
      {"ras", &d.ras, 0},                  {"rtp", &d.rtp, 0},   {"ccd_s", &d.ccdS, 1},  {"ccd_l", &d.ccdL, 1},
      {"rrd_s", &d.rrdS, 0},               {"rrd_l", &d.rrdL, 0}, {"faw", &d.faw, 0},     {"refi", &d.refi, 1},
      {"rfc", &d.rfc, 0},
  };
  bool known = false;
  for (const Field& f : fields) {
    if (name != f.name) continue;
    if (static_cast<double>(whole) != value || whole < f.least) return false;
    *f.field = whole;
    known = true;
  }
  if (name == "clock_mhz" || name == "dram_clock_mhz") {
    if (value <= 0) return false;
    (name == "clock_mhz" ? config_.clockMHz : d.clockMHz) = value;
    known = true;
  }
  if (name == "vector_port_shift") {
    if (static_cast<double>(whole) != value || whole < 1 || whole > 62) return false;
    config_.vectorPortShift = whole;
    known = true;
  }
  if (name == "front_latency_ns") {
    config_.frontLatencyNs = value;
    known = true;
  }
  if (!known || d.rowBytes % d.burstBytes != 0 || d.ccdS < d.burstCycles) return false;
  build();
  return true;
}

void OffChipMemory::load(int port, const uint8_t* bytes, uint64_t count) {
  bytes_[static_cast<std::size_t>(port)].assign(bytes, bytes + count);
}

bool OffChipMemory::acceptsBurst(int port) const { return state_[port].outstanding < config_.maxOutstanding; }

void OffChipMemory::acceptBurst(int port, uint64_t address, uint64_t beats) {
  // The handshake is at the coming edge, the end of the current cycle.
  state_[port].moving.push_back(Burst{address, beats, 0, stats_.cycles + 1});
  ++state_[port].outstanding;
}

bool OffChipMemory::beatAvailable(int port) const {
  const Port& p = state_[port];
  return !p.arrived.empty() && p.arrived.front().cycle <= stats_.cycles;
}

int OffChipMemory::target(int port, uint64_t address) const {
  if (port != vectorPort()) return port;
  const uint64_t owner = address >> config_.vectorPortShift;
  return owner < static_cast<uint64_t>(config_.ports) ? static_cast<int>(owner) : -1;
}

bool OffChipMemory::readBeat(int port, uint64_t address, uint32_t* words) const {
  const uint64_t bytes = static_cast<uint64_t>(beatBytes(port));
  const int owner = target(port, address);
  if (port == vectorPort()) address &= (uint64_t{1} << config_.vectorPortShift) - 1;
  if (owner < 0 || address + bytes > bytes_[static_cast<std::size_t>(owner)].size()) {
    std::memset(words, 0, bytes);
    return false;
  }
  std::memcpy(words, bytes_[static_cast<std::size_t>(owner)].data() + address, bytes);
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
  // Reads whose RD issues before the end of the next cycle are scheduled now.
  const uint64_t horizon = static_cast<uint64_t>(static_cast<double>(stats_.cycles + 1) * dramPerCycle_);
  bool moved = false;
  for (int c = 0; c < config_.channels; ++c) {
    DramChannel& channel = channels_[c];
    while (channel.lastRead() < horizon) {
      int port = -1;
      if (!state_[vectorPort()].moving.empty() && channelOf(vectorPort()) == c) {
        port = vectorPort();
      } else {
        // In turn from nextPort_, the first port whose next read costs least: a row hit in
        // another bank group, then a row hit, then a row miss.
        int best = 3;
        for (int i = 0, p = nextPort_[c]; i < config_.ports && best > 0; ++i, p = (p + 1) % config_.ports) {
          if (state_[p].channel != c || state_[p].moving.empty()) continue;
          const int cost = channel.cost(dramAddress(p));
          if (cost < best) {
            best = cost;
            port = p;
          }
        }
        if (port < 0) break;
        int next = (port + 1) % config_.ports;
        while (state_[next].channel != c) next = (next + 1) % config_.ports;
        nextPort_[c] = next;
      }
      moveBeat(port);
      moved = true;
    }
  }
  if (moved) ++stats_.busyCycles;
}

uint64_t OffChipMemory::toCycle(uint64_t dramCycle) const {
  const double ns = static_cast<double>(dramCycle) * 1000.0 / config_.dram.clockMHz + config_.frontLatencyNs;
  // The first cycle that starts at or after that time (rounding noise aside).
  return static_cast<uint64_t>(std::ceil(ns * config_.clockMHz / 1000.0 - 1e-9));
}

int OffChipMemory::owner(int port) const { return std::max(0, target(port, state_[port].moving.front().address)); }

int OffChipMemory::channelOf(int port) const { return state_[owner(port)].channel; }

uint64_t OffChipMemory::dramAddress(int port) const {
  const Burst& burst = state_[port].moving.front();
  uint64_t address = burst.address + burst.moved * static_cast<uint64_t>(beatBytes(port));
  if (port == vectorPort()) address &= (uint64_t{1} << config_.vectorPortShift) - 1;
  // The weight ports read the same addresses in lockstep (each its slice of one weight
  // beat); ports sharing a channel sit a bank apart, so their streams never want two rows
  // of one bank. The vector port reads in the space of the port its address names.
  const uint64_t bank = static_cast<uint64_t>(config_.dram.rowBytes) * static_cast<uint64_t>(config_.dram.bankGroups);
  return static_cast<uint64_t>(owner(port) / config_.channels) * bank + address;
}

void OffChipMemory::moveBeat(int port) {
  Port& p = state_[port];
  Burst& burst = p.moving.front();
  const bool last = burst.moved + 1 == burst.beats;
  const uint64_t bytes = static_cast<uint64_t>(beatBytes(port));
  const uint64_t address = burst.address + burst.moved * bytes;
  const int from = owner(port);
  const uint64_t local = dramAddress(port);
  DramChannel& channel = channels_[static_cast<std::size_t>(state_[from].channel)];
  const uint64_t dramBurst = static_cast<uint64_t>(config_.dram.burstBytes);
  const uint64_t arrival = static_cast<uint64_t>(static_cast<double>(burst.accepted) * dramPerCycle_);
  // A beat narrower than a DRAM burst shares it with its neighbours (the interconnect's
  // width converter); a wider one takes several.
  // The vector port's beats are told apart by the port they read too.
  for (uint64_t at = local / dramBurst * dramBurst; at < local + bytes; at += dramBurst) {
    const uint64_t key = at / dramBurst ^ static_cast<uint64_t>(from) << 56;
    if (key == p.lastDramBurst) continue;
    p.lastDramBurst = key;
    p.lastDataEnd = channel.read(at, arrival);
  }
  p.arrived.push_back(Beat{toCycle(p.lastDataEnd), address, last});
  if (port == vectorPort()) {
    stats_.vectorBytes += bytes;
  } else {
    stats_.weightBytes += bytes;
  }
  ++burst.moved;
  if (last) p.moving.pop_front();
}

uint64_t OffChipMemory::activates() const {
  uint64_t n = 0;
  for (const DramChannel& c : channels_) n += c.activates();
  return n;
}

uint64_t OffChipMemory::refreshes() const {
  uint64_t n = 0;
  for (const DramChannel& c : channels_) n += c.refreshes();
  return n;
}

}  // namespace hw_mem

// --- The C interface ----------------------------------------------------------------------

namespace {

hw_mem::OffChipMemory* offChipMemory(void* handle) { return static_cast<hw_mem::OffChipMemory*>(handle); }
const hw_mem::OffChipMemory* offChipMemory(const void* handle) { return static_cast<const hw_mem::OffChipMemory*>(handle); }

}  // namespace

extern "C" {

void* hw_mem_create(int ports, int port_beat_bytes, int vector_beat_bytes, uint64_t max_outstanding,
                    int lanes_per_port) {
  if (ports < 1 || port_beat_bytes % 4 != 0 || vector_beat_bytes % 4 != 0 || lanes_per_port * 16 > port_beat_bytes) {
    return nullptr;
  }
  hw_mem::MemoryConfig c;
  c.ports = ports;
  c.portBeatBytes = port_beat_bytes;
  c.vectorBeatBytes = vector_beat_bytes;
  c.maxOutstanding = max_outstanding;
  c.lanesPerPort = lanes_per_port;
  try {
    return new hw_mem::OffChipMemory(c);
  } catch (...) {
    return nullptr;
  }
}

int hw_mem_option(void* handle, const char* name, double value) {
  return offChipMemory(handle)->option(name, value) ? 0 : -1;
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
  if (key == "activates") return offChipMemory(handle)->activates();
  if (key == "refreshes") return offChipMemory(handle)->refreshes();
  return UINT64_MAX;
}

}  // extern "C"
