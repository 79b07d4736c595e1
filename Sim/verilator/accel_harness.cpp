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
  tokenValid_ = find("token_valid_o", true);
  irq_ = find("irq_o", true);
  lite_.awAddr = find("s_axil_awaddr_i", false);
  lite_.awValid = find("s_axil_awvalid_i", false);
  lite_.awReady = find("s_axil_awready_o", true);
  lite_.wData = find("s_axil_wdata_i", false);
  lite_.wStrb = find("s_axil_wstrb_i", false);
  lite_.wValid = find("s_axil_wvalid_i", false);
  lite_.wReady = find("s_axil_wready_o", true);
  lite_.bResp = find("s_axil_bresp_o", true);
  lite_.bValid = find("s_axil_bvalid_o", true);
  lite_.bReady = find("s_axil_bready_i", false);
  lite_.arAddr = find("s_axil_araddr_i", false);
  lite_.arValid = find("s_axil_arvalid_i", false);
  lite_.arReady = find("s_axil_arready_o", true);
  lite_.rData = find("s_axil_rdata_o", true);
  lite_.rResp = find("s_axil_rresp_o", true);
  lite_.rValid = find("s_axil_rvalid_o", true);
  lite_.rReady = find("s_axil_rready_i", false);
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

bool AcceleratorHarness::chance(uint64_t percent) { return dice_.roll(percent, faults_.seed); }

std::string AcceleratorHarness::portName(int p) const {
  return p == memory_->vectorPort() ? "vector" : std::to_string(p);
}

bool AcceleratorHarness::checkAr(int p, const ArSample& ar) {
  char text[240];
  const ArSample& held = held_[static_cast<std::size_t>(p)];
  if (const char* problem = hw_axi_rules::heldArProblem(held, ar)) {
    std::snprintf(text, sizeof text, "memory port %s: %s (read at 0x%llx)", portName(p).c_str(), problem,
                  static_cast<unsigned long long>(held.address));
    error_ = text;
    return false;
  }
  if (!ar.valid || !arReady_[static_cast<std::size_t>(p)]) return true;
  const uint64_t bytes = static_cast<uint64_t>(memory_->beatBytes(p));
  const char* problem = hw_axi_rules::burstProblem(ar, bytes, 256);
  if (problem == nullptr) return true;
  std::snprintf(text, sizeof text,
                "memory port %s: the read at 0x%llx %s (ARLEN %llu, ARSIZE %llu, ARBURST %llu)",
                portName(p).c_str(), static_cast<unsigned long long>(ar.address), problem,
                static_cast<unsigned long long>(ar.length), static_cast<unsigned long long>(ar.size),
                static_cast<unsigned long long>(ar.burst));
  error_ = text;
  return false;
}

// The host driver's outputs for this cycle: the transaction in flight, else the next one:
// interrupt handling first, then the prompt, then the queued setup writes.
void AcceleratorHarness::driveHost() {
  if (!hostActive_) {
    std::deque<Lite>* queue = nullptr;
    if (!service_.empty()) {
      queue = &service_;
    } else if (!servicing_ && get(irq_) != 0) {
      servicing_ = true;
      service_.push_back(Lite{false, registers_.irqStatus, 0, kIrqStatus});
      queue = &service_;
    } else if (promptIndex_ < prompt_.size() && cycles_ >= promptRetryCycle_) {
      hostOp_ = Lite{true, registers_.prompt, static_cast<uint32_t>(prompt_[promptIndex_]), kPrompt};
      hostActive_ = true;
    } else if (!setup_.empty()) {
      queue = &setup_;
    }
    if (queue != nullptr) {
      hostOp_ = queue->front();
      queue->pop_front();
      hostActive_ = true;
    }
    awDone_ = wDone_ = arDone_ = false;
  }
  awOut_ = hostActive_ && hostOp_.write && !awDone_;
  wOut_ = hostActive_ && hostOp_.write && !wDone_;
  arOut_ = hostActive_ && !hostOp_.write && !arDone_;
  set(lite_.awValid, awOut_ ? 1 : 0);
  set(lite_.wValid, wOut_ ? 1 : 0);
  set(lite_.arValid, arOut_ ? 1 : 0);
  if (hostActive_) {
    set(hostOp_.write ? lite_.awAddr : lite_.arAddr, hostOp_.address);
    set(lite_.wData, hostOp_.data);
    set(lite_.wStrb, 0xF);
  }
  set(lite_.bReady, 1);
  set(lite_.rReady, 1);
}

// The host driver's handshakes at the coming edge; false when a setup write failed.
bool AcceleratorHarness::takeHost() {
  if (!hostActive_) return true;
  if (awOut_ && get(lite_.awReady) != 0) awDone_ = true;
  if (wOut_ && get(lite_.wReady) != 0) wDone_ = true;
  if (arOut_ && get(lite_.arReady) != 0) arDone_ = true;
  const bool response = hostOp_.write ? get(lite_.bValid) != 0 : get(lite_.rValid) != 0;
  if (!response) return true;
  const uint32_t resp = static_cast<uint32_t>(get(hostOp_.write ? lite_.bResp : lite_.rResp));
  const uint32_t data = hostOp_.write ? 0 : static_cast<uint32_t>(get(lite_.rData));
  hostActive_ = false;
  if (hostOp_.purpose == kSetup && resp != 0) {
    char text[160];
    std::snprintf(text, sizeof text, "control port: the write of 0x%x to register 0x%llx answered %s",
                  static_cast<unsigned>(hostOp_.data), static_cast<unsigned long long>(hostOp_.address),
                  resp == 2 ? "SLVERR" : "an error");
    error_ = text;
    return false;
  }
  finishHost(hostOp_, resp, data);
  return true;
}

void AcceleratorHarness::finishHost(const Lite& op, uint32_t response, uint32_t data) {
  const Registers& r = registers_;
  switch (op.purpose) {
    case kSetup:
    case kIrqClear:
      break;
    case kPrompt:
      if (response == 0) ++promptIndex_;
      else promptRetryCycle_ = cycles_ + r.promptRetry;  // the FIFO is full
      break;
    case kIrqStatus: {
      const uint32_t pending = data & ((1u << r.irqDone) | (1u << r.irqError) | (1u << r.irqToken));
      if (pending != 0) service_.push_back(Lite{true, r.irqStatus, pending, kIrqClear});
      if (pending & (1u << r.irqToken)) service_.push_back(Lite{false, r.token, 0, kTokenRead});
      if (pending & (1u << r.irqError)) {
        service_.push_back(Lite{false, r.error, 0, kErrorRead});
        service_.push_back(Lite{false, r.errorAddrLow, 0, kErrorAddrLow});
        service_.push_back(Lite{false, r.errorAddrHigh, 0, kErrorAddrHigh});
      }
      // DONE is reported once the token reads queued with it are through.
      if (pending & (1u << r.irqDone)) hostDone_ = true;
      break;
    }
    case kTokenRead:
      if (data >> r.tokenValid & 1u) {
        hostTokens_.push_back(data & ((1u << r.tokenValid) - 1));
        service_.push_front(Lite{false, r.token, 0, kTokenRead});
      }
      break;
    case kErrorRead:
      hostError_.error = data;
      break;
    case kErrorAddrLow:
      hostError_.address = data;
      break;
    case kErrorAddrHigh:
      hostError_.address |= uint64_t{data} << 32;
      hostError_.seen = true;
      hostEvents_ |= kError;
      break;
  }
  if (!service_.empty()) return;
  servicing_ = false;
  if (hostDone_) {
    hostDone_ = false;
    hostEvents_ |= kIdle;
  }
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

int AcceleratorHarness::run(uint64_t cycles) {
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
    driveHost();
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
    if (!takeHost()) return kViolation;
    int events = hostEvents_;
    hostEvents_ = 0;
    if (get(ckptValid_) != 0) {
      hw_get(model_, ckptData_.index, words_.data(), static_cast<uint32_t>(words_.size()));
      checkpoint_.insert(checkpoint_.end(), words_.begin(), words_.end());
      if (get(ckptLast_) != 0) events |= kCheckpoint;
    }
    if (get(tokenValid_) != 0) events |= kToken;
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
  hw_accel::Registers& r = accelHarness(handle)->registers();
  const std::string key = name;
  const uint64_t v = static_cast<uint64_t>(value);
  if (key == "seed") f.seed = v;
  else if (key == "reg_prompt") r.prompt = v;
  else if (key == "reg_token") r.token = v;
  else if (key == "reg_irq_status") r.irqStatus = v;
  else if (key == "reg_error") r.error = v;
  else if (key == "reg_error_addr_low") r.errorAddrLow = v;
  else if (key == "reg_error_addr_high") r.errorAddrHigh = v;
  else if (key == "bit_irq_done") r.irqDone = v;
  else if (key == "bit_irq_error") r.irqError = v;
  else if (key == "bit_irq_token") r.irqToken = v;
  else if (key == "bit_token_valid") r.tokenValid = v;
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

void hw_accel_write(void* handle, uint64_t address, uint32_t data) { accelHarness(handle)->write(address, data); }

int hw_accel_run(void* handle, uint64_t cycles) {
  try {
    return accelHarness(handle)->run(cycles);
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
  if (key == "host_tokens") return h->hostTokens().size();
  if (key == "host_error") return h->hostError().error;
  if (key == "host_error_address") return h->hostError().address;
  return UINT64_MAX;
}

uint64_t hw_accel_host_tokens(const void* handle, uint64_t* tokens, uint64_t capacity) {
  const std::vector<uint64_t>& read = accelHarness(handle)->hostTokens();
  const uint64_t count = std::min<uint64_t>(capacity, read.size());
  if (tokens != nullptr && count != 0) std::memcpy(tokens, read.data(), static_cast<std::size_t>(count) * 8);
  return count;
}

uint64_t hw_accel_checkpoint(void* handle, uint32_t* words, uint64_t capacity) {
  std::vector<uint32_t>& collected = accelHarness(handle)->checkpoint();
  const uint64_t count = std::min<uint64_t>(capacity, collected.size());
  if (words != nullptr && count != 0) std::memcpy(words, collected.data(), static_cast<std::size_t>(count) * 4);
  collected.clear();
  return count;
}

}  // extern "C"
