// axi_mem_slave.cpp: the AXI4 memory slave and read harness (axi_mem_slave.h) and their
// extern "C" functions (hw_shim.h). The same for every design: it reaches the model only
// through the shim's port table, so a design without the ports gets a harness whose
// hw_axi_error names them.

#include "axi_mem_slave.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>

#include "hw_shim.h"

namespace hw_axi {

ReadHarness::ReadHarness(void* model, const std::string& bus, const std::string& cmd, const std::string& data)
    : model_(model) {
  arValid_ = find(bus + "arvalid_o", true);
  arReady_ = find(bus + "arready_i", false);
  arAddr_ = find(bus + "araddr_o", true);
  arLen_ = find(bus + "arlen_o", true);
  arSize_ = find(bus + "arsize_o", true);
  arBurst_ = find(bus + "arburst_o", true);
  arId_ = find(bus + "arid_o", true);
  rValid_ = find(bus + "rvalid_i", false);
  rReady_ = find(bus + "rready_o", true);
  rData_ = find(bus + "rdata_i", false);
  rResp_ = find(bus + "rresp_i", false);
  rLast_ = find(bus + "rlast_i", false);
  rId_ = find(bus + "rid_i", false);
  cmdValid_ = find(cmd + "valid_i", false);
  cmdReady_ = find(cmd + "ready_o", true);
  cmdAddr_ = find(cmd + "addr_i", false);
  cmdLen_ = find(cmd + "len_i", false);
  dValid_ = find(data + "valid_o", true);
  dReady_ = find(data + "ready_i", false);
  dData_ = find(data + "data_o", true);
  dLast_ = find(data + "last_o", true);
  beatBytes_ = rData_.width / 8;
  if (error_.empty() && (rData_.width % 32 != 0 || dData_.width != rData_.width)) {
    error_ = "RDATA and the data stream must be the same multiple of 32 bits";
  }
  words_.assign(static_cast<std::size_t>(std::max(rData_.words(), 1)), 0);
}

int ReadHarness::portIndex(const std::string& name) const {
  for (int i = 0; i < hw_port_count(); ++i) {
    if (name == hw_port_name(i)) return i;
  }
  return -1;
}

Port ReadHarness::find(const std::string& name, bool output) {
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

uint64_t ReadHarness::get(const Port& port) const { return hw_get64(model_, port.index); }
void ReadHarness::set(const Port& port, uint64_t value) { hw_set64(model_, port.index, value); }

bool ReadHarness::percent(uint64_t chance) { return dice_.roll(chance, config_.seed); }

void ReadHarness::load(uint64_t base, const uint8_t* bytes, uint64_t count) {
  memoryBase_ = base;
  memory_.assign(bytes, bytes + count);
}

void ReadHarness::command(uint64_t address, uint64_t length) {
  commands_.push_back(Command{address, length});
  ++commandsQueued_;
}

uint64_t ReadHarness::beatResponse(uint64_t address) const {
  if (config_.errorSize != 0 && address >= config_.errorBase && address - config_.errorBase < config_.errorSize) {
    return config_.errorResp;
  }
  const uint64_t end = memoryBase_ + memory_.size();
  if (address < memoryBase_ || address + static_cast<uint64_t>(beatBytes_) > end) return 3;  // DECERR
  return 0;
}

void ReadHarness::beatData(uint64_t address, uint32_t* words) const {
  std::fill(words, words + rData_.words(), 0u);
  if (address < memoryBase_ || address + static_cast<uint64_t>(beatBytes_) > memoryBase_ + memory_.size()) return;
  const uint8_t* bytes = memory_.data() + (address - memoryBase_);
  for (int i = 0; i < beatBytes_; ++i) words[i / 4] |= static_cast<uint32_t>(bytes[i]) << (8 * (i % 4));
}

// The slave's and the harness's outputs for the coming edge.
void ReadHarness::drive() {
  arReadyOut_ = config_.neverAnswer == 0 && bursts_.size() < config_.maxOutstanding && !percent(config_.arStallPercent);
  // A token bucket: num tokens a cycle, den a beat; it banks at most one beat's worth
  // beyond what the next beat needs, so a stalled channel cannot burst above the limit.
  credit_ = std::min(credit_ + config_.bandwidthNum, config_.bandwidthDen + config_.bandwidthNum - 1);
  if (!rValidOut_ && !bursts_.empty()) {
    const Burst& head = bursts_.front();
    const bool gap = percent(config_.rGapPercent);
    if (stats_.cycles >= head.readyCycle && credit_ >= config_.bandwidthDen && !gap) {
      rValidOut_ = true;
      credit_ -= config_.bandwidthDen;
    }
  }
  set(arReady_, arReadyOut_ ? 1 : 0);
  set(rValid_, rValidOut_ ? 1 : 0);
  if (rValidOut_) {
    const Burst& head = bursts_.front();
    const uint64_t address = head.address + head.sent * static_cast<uint64_t>(beatBytes_);
    beatData(address, words_.data());
    hw_set(model_, rData_.index, words_.data(), static_cast<uint32_t>(words_.size()));
    set(rResp_, beatResponse(address));
    const uint64_t beat = stats_.rBeats + 1;
    const bool last = head.sent + 1 == head.beats;
    set(rLast_, (last != (beat == config_.badLastBeat)) ? 1 : 0);
    set(rId_, beat == config_.badIdBeat ? head.id ^ 1 : head.id);
  }
  cmdValidOut_ = !commands_.empty();
  set(cmdValid_, cmdValidOut_ ? 1 : 0);
  if (cmdValidOut_) {
    set(cmdAddr_, commands_.front().address);
    set(cmdLen_, commands_.front().length);
  }
  dReadyOut_ = !percent(config_.rdStallPercent);
  set(dReady_, dReadyOut_ ? 1 : 0);
}

ReadHarness::ArSample ReadHarness::sampleAr() const {
  ArSample ar;
  ar.valid = get(arValid_) != 0;
  ar.address = get(arAddr_);
  ar.length = get(arLen_);
  ar.size = get(arSize_);
  ar.burst = get(arBurst_);
  ar.id = get(arId_);
  return ar;
}

// The AXI rules on AR, as the slave sees them at this edge.
bool ReadHarness::checkAr(const ArSample& ar) {
  char text[200];
  if (const char* problem = hw_axi_rules::heldArProblem(heldAr_, ar)) {
    std::snprintf(text, sizeof text, "%s (address 0x%llx)", problem, static_cast<unsigned long long>(heldAr_.address));
    error_ = text;
    return false;
  }
  if (!ar.valid || !arReadyOut_) return true;
  const char* problem = hw_axi_rules::burstProblem(ar, static_cast<uint64_t>(beatBytes_), config_.maxBurstBeats);
  if (problem == nullptr) return true;
  std::snprintf(text, sizeof text, "burst at 0x%llx of %llu beats %s", static_cast<unsigned long long>(ar.address),
                static_cast<unsigned long long>(ar.length + 1), problem);
  error_ = text;
  return false;
}

void ReadHarness::moveR() {
  Burst& head = bursts_.front();
  ++stats_.rBeats;
  rValidOut_ = false;
  if (++head.sent == head.beats) bursts_.pop_front();
}

void ReadHarness::takeData() {
  hw_get(model_, dData_.index, words_.data(), static_cast<uint32_t>(words_.size()));
  for (int i = 0; i < beatBytes_; ++i) beats_.push_back(static_cast<uint8_t>(words_[i / 4] >> (8 * (i % 4))));
  const bool last = get(dLast_) != 0;
  lasts_.push_back(last ? 1 : 0);
  ++stats_.dataBeats;
  if (stats_.firstDataCycle == 0) stats_.firstDataCycle = stats_.cycles + 1;
  stats_.lastDataCycle = stats_.cycles + 1;
  if (last) ++stats_.commandsDone;
}

int ReadHarness::run(uint64_t cycles, int stopPort) {
  if (!error_.empty()) return HW_AXI_VIOLATION;
  for (uint64_t i = 0; i < cycles; ++i) {
    if (commands_.empty() && stats_.commandsDone >= commandsQueued_) return HW_AXI_DONE;
    if (stopPort >= 0 && hw_get64(model_, stopPort) != 0) return HW_AXI_STOP_PORT;
    drive();
    if (hw_eval(model_) != HW_RUNNING) return HW_AXI_MODEL_STOPPED;
    const ArSample ar = sampleAr();
    if (!checkAr(ar)) return HW_AXI_VIOLATION;
    const bool arFire = ar.valid && arReadyOut_;
    const bool rFire = rValidOut_ && get(rReady_) != 0;
    const bool cmdFire = cmdValidOut_ && get(cmdReady_) != 0;
    if (dReadyOut_ && get(dValid_) != 0) takeData();
    if (hw_step(model_, 1) != HW_RUNNING) return HW_AXI_MODEL_STOPPED;
    ++stats_.cycles;
    heldAr_ = ar.valid && !arFire ? ar : ArSample{};
    if (arFire) {
      bursts_.push_back(Burst{ar.address, ar.length + 1, ar.id, stats_.cycles + config_.latency});
      ++stats_.arHandshakes;
    }
    if (rFire) moveR();
    if (cmdFire) commands_.pop_front();
    stats_.maxAccepted = std::max<uint64_t>(stats_.maxAccepted, bursts_.size());
  }
  return HW_AXI_CYCLES;
}

}  // namespace hw_axi

// --- The C interface ----------------------------------------------------------------------

namespace {

hw_axi::ReadHarness* harness(void* handle) { return static_cast<hw_axi::ReadHarness*>(handle); }
const hw_axi::ReadHarness* harness(const void* handle) { return static_cast<const hw_axi::ReadHarness*>(handle); }

}  // namespace

extern "C" {

void* hw_axi_create(void* model, const char* bus_prefix, const char* cmd_prefix, const char* data_prefix) {
  try {
    return new hw_axi::ReadHarness(model, bus_prefix, cmd_prefix, data_prefix);
  } catch (...) {
    return nullptr;
  }
}

void hw_axi_destroy(void* handle) { delete harness(handle); }

const char* hw_axi_error(const void* handle) { return harness(handle)->error().c_str(); }

int hw_axi_option(void* handle, const char* name, uint64_t value) {
  hw_axi::SlaveConfig& c = harness(handle)->config();
  const std::string key = name;
  uint64_t* field = key == "latency"             ? &c.latency
                    : key == "max_outstanding"   ? &c.maxOutstanding
                    : key == "bandwidth_num"     ? &c.bandwidthNum
                    : key == "bandwidth_den"     ? &c.bandwidthDen
                    : key == "seed"              ? &c.seed
                    : key == "ar_stall_percent"  ? &c.arStallPercent
                    : key == "r_gap_percent"     ? &c.rGapPercent
                    : key == "rd_stall_percent"  ? &c.rdStallPercent
                    : key == "error_base"        ? &c.errorBase
                    : key == "error_size"        ? &c.errorSize
                    : key == "error_resp"        ? &c.errorResp
                    : key == "never_answer"      ? &c.neverAnswer
                    : key == "max_burst_beats"   ? &c.maxBurstBeats
                    : key == "bad_id_beat"       ? &c.badIdBeat
                    : key == "bad_last_beat"     ? &c.badLastBeat
                                                 : nullptr;
  if (field == nullptr) return -1;
  *field = value;
  return 0;
}

void hw_axi_load(void* handle, uint64_t base, const uint8_t* bytes, uint64_t count) {
  harness(handle)->load(base, bytes, count);
}

void hw_axi_command(void* handle, uint64_t address, uint64_t length) { harness(handle)->command(address, length); }

int hw_axi_port(const void* handle, const char* name) { return harness(handle)->portIndex(name); }

int hw_axi_run(void* handle, uint64_t cycles, int stop_port) {
  try {
    return harness(handle)->run(cycles, stop_port);
  } catch (...) {
    return HW_AXI_MODEL_STOPPED;
  }
}

uint64_t hw_axi_stat(const void* handle, const char* name) {
  const hw_axi::Stats& s = harness(handle)->stats();
  const std::string key = name;
  if (key == "cycles") return s.cycles;
  if (key == "ar_handshakes") return s.arHandshakes;
  if (key == "r_beats") return s.rBeats;
  if (key == "data_beats") return s.dataBeats;
  if (key == "commands_done") return s.commandsDone;
  if (key == "max_accepted") return s.maxAccepted;
  if (key == "first_data_cycle") return s.firstDataCycle;
  if (key == "last_data_cycle") return s.lastDataCycle;
  return UINT64_MAX;
}

int hw_axi_beat_bytes(const void* handle) { return harness(handle)->beatBytes(); }

uint64_t hw_axi_beats(const void* handle, uint8_t* data, uint8_t* lasts, uint64_t capacity) {
  const hw_axi::ReadHarness* h = harness(handle);
  const uint64_t count = std::min<uint64_t>(capacity, h->lasts().size());
  const std::size_t bytes = static_cast<std::size_t>(count) * static_cast<std::size_t>(h->beatBytes());
  if (data != nullptr && bytes != 0) std::memcpy(data, h->beats().data(), bytes);
  if (lasts != nullptr && count != 0) std::memcpy(lasts, h->lasts().data(), static_cast<std::size_t>(count));
  return count;
}

}  // extern "C"
