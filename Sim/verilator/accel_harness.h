// accel_harness.h: the per-cycle harness around a Verilated mmfree_accel, in C++ next to the
// model (the extern "C" side is in hw_shim.h).
//
// Each cycle it answers every AXI4 read port (`m<p>_axi_*`, then `mvec_axi_*`) from an
// OffChipMemory, offers the queued prompt tokens, settles the model, takes the
// handshakes, collects checkpoint beats, and steps one edge. Swift sets it up, queues the
// prompt, and runs until an event (a checkpoint's last beat, a generated token, an error or
// DONE as the host learns them, an AXI rule broken, the model stopped) or a cycle budget; nothing
// crosses into Swift per cycle.
//
// The host side is a driver on the AXI4-Lite port `s_axil_*` (mmfree_csr), one transaction
// at a time: Swift queues the setup writes (the program load: IRQ_ENABLE, PROG_BASE,
// PROG_COUNT, CTRL.LOAD, run until DONE; then TOKENS, IRQ_ENABLE, CTRL.START); the
// driver pushes the prompt into PROMPT (retrying while the FIFO answers SLVERR), and when
// irq_o rises it reads IRQ_STATUS, clears it, drains TOKEN, and on an error reads ERROR and
// ERROR_ADDR. The run's "done" and "error" events are what the driver learned this way.
// The trace outputs token_valid_o / token_o and the debug counter port stay for
// measurement: a token event is the cycle the ARGMAX fired.
//
// An event returns before the cycle's clock edge, so Swift reads the performance
// counters (perf_sel_i / perf_data_o, combinational) as they stand in that cycle; the
// next run completes the edge first. While ckpt_active_o is high the memory holds still:
// ARREADY and RVALID are low and the memory does not tick.
//
// Faults, seeded: ARREADY low and no R beat offered in a cycle with a given chance on every
// port, an error response on a byte range of one port, a port that never raises ARREADY.
// Every AR handshake is checked (INCR, ARSIZE of the port's width, aligned, no 4 KiB
// crossing), and an address waiting for ARREADY must hold ARVALID and its payload.

#ifndef ACCEL_HARNESS_H_
#define ACCEL_HARNESS_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "axi_rules.h"
#include "offchip_memory.h"

namespace hw_accel {

// Register offsets and bits of the CSR block, from Swift (AcceleratorCSRRegister).
struct Registers {
  uint64_t prompt = 0x0c, token = 0x10, irqStatus = 0x18, error = 0x1c, errorAddrLow = 0x20, errorAddrHigh = 0x24;
  uint64_t irqDone = 0, irqError = 1, irqToken = 2, tokenValid = 31;
  uint64_t promptRetry = 32;  // cycles before a PROMPT write that answered SLVERR is tried again
};

// What the host driver read after an error interrupt.
struct HostError {
  bool seen = false;
  uint32_t error = 0;
  uint64_t address = 0;
};

struct Faults {
  uint64_t seed = 1;
  uint64_t arStallPercent = 0;
  uint64_t rGapPercent = 0;
  uint64_t errorPort = 0;
  uint64_t errorBase = 0;
  uint64_t errorSize = 0;
  uint64_t errorResp = 2;
  int64_t silentPort = -1;
};

// What run returns: a mask of these (0: the budget ran out).
enum Event : int {
  kCheckpoint = 1,   // a checkpoint's last beat: its words are in checkpoint()
  kToken = 2,        // token_valid_o
  kError = 4,        // the host read an error (ERROR, ERROR_ADDR): hostError()
  kIdle = 8,         // the host saw DONE
  kViolation = 16,   // an AXI rule broken, or a port missing: error()
  kStopped = 32,     // the model stopped (an assertion)
};

class AcceleratorHarness {
 public:
  AcceleratorHarness(void* model, hw_mem::OffChipMemory* memory);

  const std::string& error() const { return error_; }
  Faults& faults() { return faults_; }
  Registers& registers() { return registers_; }
  void prompt(uint64_t token) { prompt_.push_back(token); }
  // Queues a setup write on the AXI4-Lite port; it must answer OKAY.
  void write(uint64_t address, uint32_t data) { setup_.push_back(Lite{true, address, data, kSetup}); }
  int run(uint64_t cycles);
  const std::vector<uint64_t>& hostTokens() const { return hostTokens_; }
  const HostError& hostError() const { return hostError_; }
  uint64_t cycles() const { return cycles_; }
  uint64_t heldAddresses() const { return heldAddresses_; }
  uint64_t heldBeats() const { return heldBeats_; }
  // The words of the checkpoint beats since the last take.
  std::vector<uint32_t>& checkpoint() { return checkpoint_; }
  uint64_t checkpointWords() const { return checkpoint_.size(); }

 private:
  struct Port {
    int index = -1;
    int width = 0;
  };
  struct Bus {
    Port arValid, arReady, arAddr, arLen, arSize, arBurst, arId;
    Port rValid, rReady, rData, rResp, rLast, rId;
  };
  // One AXI4-Lite transaction of the host driver, and why it was made.
  enum Purpose { kSetup, kPrompt, kIrqStatus, kIrqClear, kTokenRead, kErrorRead, kErrorAddrLow, kErrorAddrHigh };
  struct Lite {
    bool write;
    uint64_t address;
    uint32_t data;
    Purpose purpose;
  };
  struct LiteBus {
    Port awAddr, awValid, awReady, wData, wStrb, wValid, wReady, bResp, bValid, bReady;
    Port arAddr, arValid, arReady, rData, rResp, rValid, rReady;
  };
  using ArSample = hw_axi_rules::ArSample;

  Port find(const std::string& name, bool output);
  Bus bus(const std::string& prefix);
  bool chance(uint64_t percent);
  std::string portName(int p) const;
  bool checkAr(int p, const ArSample& ar);
  void driveHost();
  bool takeHost();
  void finishHost(const Lite& op, uint32_t response, uint32_t data);
  void edge();
  uint64_t get(const Port& port) const;
  void set(const Port& port, uint64_t value);

  void* model_;
  hw_mem::OffChipMemory* memory_;
  std::string error_;
  Faults faults_;
  hw_axi_rules::FaultDice dice_;

  std::vector<Bus> buses_;
  Port tokenValid_;
  Port ckptValid_, ckptData_, ckptLast_, ckptActive_;

  std::vector<uint64_t> prompt_;
  std::size_t promptIndex_ = 0;
  uint64_t promptRetryCycle_ = 0;
  Registers registers_;
  LiteBus lite_;
  Port irq_;
  std::deque<Lite> setup_, service_;
  bool hostActive_ = false;
  Lite hostOp_{};
  bool awDone_ = false, wDone_ = false, arDone_ = false;
  bool awOut_ = false, wOut_ = false, arOut_ = false;
  bool servicing_ = false;  // an interrupt is being handled
  std::vector<uint64_t> hostTokens_;
  HostError hostError_;
  bool hostDone_ = false;
  int hostEvents_ = 0;
  std::vector<uint32_t> checkpoint_;
  std::vector<uint32_t> words_;

  // The current cycle, sampled after the settle and not yet clocked.
  bool pending_ = false;
  bool inCheckpoint_ = false;
  std::vector<bool> arReady_, offered_;
  std::vector<ArSample> ar_, held_;
  std::vector<bool> rTaken_;
  std::vector<std::vector<uint32_t>> rWords_;
  uint64_t cycles_ = 0;
  uint64_t heldAddresses_ = 0;
  uint64_t heldBeats_ = 0;
};

}  // namespace hw_accel

#endif  // ACCEL_HARNESS_H_
