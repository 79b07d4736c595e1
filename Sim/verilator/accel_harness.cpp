// accel_harness.cpp: the accelerator harness (accel_harness.h) and its extern "C" functions
// (hw_shim.h). It reaches the model only through the shim's port table.

#include "accel_harness.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "hw_shim.h"

namespace hw_accel {

namespace {

int portIndex(const std::string& name) {
  for (int i = 0; i < hw_port_count(); ++i) {
    if (name == hw_port_name(i)) return i;
  }
  return -1;
}

}  // namespace

AcceleratorHarness::AcceleratorHarness(void* model, hw_mem::OffChipMemory* memory) : model_(model), memory_(memory) {
  const int ports = memory->config().ports;
  for (int p = 0; p < ports; ++p) buses_.push_back(bus("m" + std::to_string(p) + "_axi_"));
  buses_.push_back(bus("mvec_axi_"));
  promptValid_ = find("prompt_valid_i", false);
  promptReady_ = find("prompt_ready_o", true);
  promptToken_ = find("prompt_token_i", false);
  tokenValid_ = find("token_valid_o", true);
  busy_ = find("busy_o", true);
  err_ = find("err_o", true);
  ckptValid_ = find("ckpt_valid_o", true);
  ckptData_ = find("ckpt_data_o", true);
  ckptLast_ = find("ckpt_last_o", true);
  ckptActive_ = find("ckpt_active_o", true);
  const std::size_t n = buses_.size();
  arReady_.assign(n, false);
  offered_.assign(n, false);
  rTaken_.assign(n, false);
  ar_.assign(n, ArSample{});
  held_.assign(n, ArSample{});
  for (std::size_t p = 0; p < n && error_.empty(); ++p) {
    const int width = buses_[p].rData.width;
    if (width != 8 * memory->beatBytes(static_cast<int>(p))) {
      error_ = "port " + portName(static_cast<int>(p)) + ": RDATA is " + std::to_string(width) +
               " bits, the memory's beat " + std::to_string(8 * memory->beatBytes(static_cast<int>(p)));
    }
    rWords_.emplace_back(static_cast<std::size_t>(std::max(1, width / 32)), 0u);
  }
  words_.assign(static_cast<std::size_t>(std::max(1, ckptData_.width / 32)), 0u);
}

AcceleratorHarness::Port AcceleratorHarness::find(const std::string& name, bool output) {
  Port port;
  port.index = portIndex(name);
  if (port.index < 0 || (hw_port_is_output(port.index) != 0) != output) {
    if (error_.empty()) error_ = "the model has no " + std::string(output ? "output " : "input ") + name;
    port.index = -1;
    return port;
  }
  port.width = hw_port_width(port.index);
  return port;
}

AcceleratorHarness::Bus AcceleratorHarness::bus(const std::string& prefix) {
  Bus b;
  b.arValid = find(prefix + "arvalid_o", true);
  b.arReady = find(prefix + "arready_i", false);
  b.arAddr = find(prefix + "araddr_o", true);
  b.arLen = find(prefix + "arlen_o", true);
  b.arSize = find(prefix + "arsize_o", true);
  b.arBurst = find(prefix + "arburst_o", true);
  b.arId = find(prefix + "arid_o", true);
  b.rValid = find(prefix + "rvalid_i", false);
  b.rReady = find(prefix + "rready_o", true);
  b.rData = find(prefix + "rdata_i", false);
  b.rResp = find(prefix + "rresp_i", false);
  b.rLast = find(prefix + "rlast_i", false);
  b.rId = find(prefix + "rid_i", false);
  return b;
}

uint64_t AcceleratorHarness::get(const Port& port) const { return hw_get64(model_, port.index); }
void AcceleratorHarness::set(const Port& port, uint64_t value) { hw_set64(model_, port.index, value); }

// SplitMix64, the sequence of HWSupport's SeededRandom.
bool AcceleratorHarness::chance(uint64_t percent) {
  if (percent == 0) return false;
  if (!seeded_) {
    random_ = faults_.seed;
    seeded_ = true;
  }
  random_ += 0x9E3779B97F4A7C15ull;
  uint64_t z = random_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return z % 100 < percent;
}

std::string AcceleratorHarness::portName(int p) const {
  return p == memory_->vectorPort() ? "vector" : std::to_string(p);
}

bool AcceleratorHarness::checkAr(int p, const ArSample& ar) {
  char text[240];
  const ArSample& held = held_[static_cast<std::size_t>(p)];
  if (held.valid && (!ar.valid || ar.address != held.address || ar.length != held.length || ar.size != held.size ||
                     ar.burst != held.burst || ar.id != held.id)) {
    std::snprintf(text, sizeof text, "memory port %s: %s while ARREADY was low (read at 0x%llx)",
                  portName(p).c_str(), ar.valid ? "AR payload changed" : "ARVALID dropped",
                  static_cast<unsigned long long>(held.address));
    error_ = text;
    return false;
  }
  if (!ar.valid || !arReady_[static_cast<std::size_t>(p)]) return true;
  const uint64_t bytes = static_cast<uint64_t>(memory_->beatBytes(p));
  const uint64_t span = (ar.length + 1) * bytes;
  if ((uint64_t{1} << ar.size) == bytes && ar.burst == 1 && ar.address % bytes == 0 &&
      ar.address / 4096 == (ar.address + span - 1) / 4096) {
    return true;
  }
  std::snprintf(text, sizeof text,
                "memory port %s: AXI rule broken by the read at 0x%llx (ARLEN %llu, ARSIZE %llu, ARBURST %llu)",
                portName(p).c_str(), static_cast<unsigned long long>(ar.address),
                static_cast<unsigned long long>(ar.length), static_cast<unsigned long long>(ar.size),
                static_cast<unsigned long long>(ar.burst));
  error_ = text;
  return false;
}

// The clock edge of the sampled cycle; the memory moves unless a checkpoint holds it.
void AcceleratorHarness::edge() {
  for (std::size_t p = 0; p < buses_.size(); ++p) {
    held_[p] = ar_[p].valid && !arReady_[p] ? ar_[p] : ArSample{};
  }
  pending_ = false;
  ++cycles_;
  if (!inCheckpoint_) memory_->tick();
}

int AcceleratorHarness::run(uint64_t cycles, bool stopWhenIdle) {
  if (!error_.empty()) return kViolation;
  for (uint64_t i = 0; i < cycles; ++i) {
    if (pending_) {
      if (hw_step(model_, 1) != HW_RUNNING) return kStopped;
      edge();
    }
    // The slave's and the host's outputs for this cycle.
    inCheckpoint_ = get(ckptActive_) != 0;
    for (std::size_t p = 0; p < buses_.size(); ++p) {
      const Bus& b = buses_[p];
      const int port = static_cast<int>(p);
      const bool stalled = faults_.silentPort == port || chance(faults_.arStallPercent);
      arReady_[p] = !inCheckpoint_ && !stalled && memory_->acceptsBurst(port);
      set(b.arReady, arReady_[p] ? 1 : 0);
      if (stalled && !inCheckpoint_ && get(b.arValid) != 0) ++heldAddresses_;
      const bool waiting = !inCheckpoint_ && memory_->beatAvailable(port);
      const bool gap = chance(faults_.rGapPercent);
      offered_[p] = waiting && !gap;
      if (waiting && gap) ++heldBeats_;
      set(b.rValid, offered_[p] ? 1 : 0);
      if (!offered_[p]) continue;
      const uint64_t address = memory_->nextAddress(port);
      const bool found = memory_->readBeat(port, address, rWords_[p].data());
      const bool injected = p == faults_.errorPort && address >= faults_.errorBase &&
                            address - faults_.errorBase < faults_.errorSize;
      set(b.rResp, injected ? faults_.errorResp : found ? 0 : 3);
      set(b.rLast, memory_->nextLast(port) ? 1 : 0);
      set(b.rId, 0);
      hw_set(model_, b.rData.index, rWords_[p].data(), static_cast<uint32_t>(rWords_[p].size()));
    }
    promptOffered_ = promptIndex_ < prompt_.size();
    set(promptValid_, promptOffered_ ? 1 : 0);
    if (promptOffered_) set(promptToken_, prompt_[promptIndex_]);
    if (hw_eval(model_) != HW_RUNNING) return kStopped;

    // The handshakes at the coming edge.
    for (std::size_t p = 0; p < buses_.size(); ++p) {
      const Bus& b = buses_[p];
      const int port = static_cast<int>(p);
      ArSample& ar = ar_[p];
      ar.valid = get(b.arValid) != 0;
      ar.address = get(b.arAddr);
      ar.length = get(b.arLen);
      ar.size = get(b.arSize);
      ar.burst = get(b.arBurst);
      ar.id = get(b.arId);
      if (!checkAr(port, ar)) return kViolation;
      if (ar.valid && arReady_[p]) memory_->acceptBurst(port, ar.address, ar.length + 1);
      if (offered_[p] && get(b.rReady) != 0) memory_->takeBeat(port, rWords_[p].data());
    }
    if (promptOffered_ && get(promptReady_) != 0) ++promptIndex_;
    int events = 0;
    if (get(ckptValid_) != 0) {
      hw_get(model_, ckptData_.index, words_.data(), static_cast<uint32_t>(words_.size()));
      checkpoint_.insert(checkpoint_.end(), words_.begin(), words_.end());
      if (get(ckptLast_) != 0) events |= kCheckpoint;
    }
    if (get(tokenValid_) != 0) events |= kToken;
    if (get(err_) != 0) events |= kError;
    if (stopWhenIdle && get(busy_) == 0) events |= kIdle;
    pending_ = true;
    if (events != 0) return events;
  }
  return 0;
}

}  // namespace hw_accel

// --- The C interface ----------------------------------------------------------------------

namespace {

hw_accel::AcceleratorHarness* accelHarness(void* handle) { return static_cast<hw_accel::AcceleratorHarness*>(handle); }
const hw_accel::AcceleratorHarness* accelHarness(const void* handle) {
  return static_cast<const hw_accel::AcceleratorHarness*>(handle);
}

}  // namespace

extern "C" {

void* hw_accel_create(void* model, void* memory) {
  try {
    return new hw_accel::AcceleratorHarness(model, static_cast<hw_mem::OffChipMemory*>(memory));
  } catch (...) {
    return nullptr;
  }
}

void hw_accel_destroy(void* handle) { delete accelHarness(handle); }

const char* hw_accel_error(const void* handle) { return accelHarness(handle)->error().c_str(); }

int hw_accel_option(void* handle, const char* name, int64_t value) {
  hw_accel::Faults& f = accelHarness(handle)->faults();
  const std::string key = name;
  const uint64_t v = static_cast<uint64_t>(value);
  if (key == "seed") f.seed = v;
  else if (key == "ar_stall_percent") f.arStallPercent = v;
  else if (key == "r_gap_percent") f.rGapPercent = v;
  else if (key == "error_port") f.errorPort = v;
  else if (key == "error_base") f.errorBase = v;
  else if (key == "error_size") f.errorSize = v;
  else if (key == "error_resp") f.errorResp = v;
  else if (key == "silent_port") f.silentPort = value;
  else return -1;
  return 0;
}

void hw_accel_prompt(void* handle, uint64_t token) { accelHarness(handle)->prompt(token); }

int hw_accel_run(void* handle, uint64_t cycles, int stop_when_idle) {
  try {
    return accelHarness(handle)->run(cycles, stop_when_idle != 0);
  } catch (...) {
    return hw_accel::kStopped;
  }
}

uint64_t hw_accel_stat(const void* handle, const char* name) {
  const hw_accel::AcceleratorHarness* h = accelHarness(handle);
  const std::string key = name;
  if (key == "cycles") return h->cycles();
  if (key == "held_addresses") return h->heldAddresses();
  if (key == "held_beats") return h->heldBeats();
  if (key == "checkpoint_words") return h->checkpointWords();
  return UINT64_MAX;
}

uint64_t hw_accel_checkpoint(void* handle, uint32_t* words, uint64_t capacity) {
  std::vector<uint32_t>& collected = accelHarness(handle)->checkpoint();
  const uint64_t count = std::min<uint64_t>(capacity, collected.size());
  if (words != nullptr && count != 0) std::memcpy(words, collected.data(), static_cast<std::size_t>(count) * 4);
  collected.clear();
  return count;
}

}  // extern "C"
