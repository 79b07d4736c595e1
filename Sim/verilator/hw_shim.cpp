// hw_shim.cpp: the C interface (hw_shim.h) around one Verilated design.
//
// This file is the same for every design. What differs comes from hw_design.h, which
// hwgen writes next to it for each build:
//
//   HW_TOP_CLASS, HW_TOP_HEADER  the Verilated class (V<top>) and its header
//   HW_CACHE_KEY                 the build's cache key, a string literal
//   HW_DESIGN_ABI_VERSION        the ABI version the Swift side expects
//   HW_THREADS                   Verilator --threads
//   HW_CLOCK                     the clock input that hw_step toggles (absent: no clock)
//   HW_TRACE_VCD / HW_TRACE_FST  defined when the model is built with tracing
//   HW_PORTS(INPUT, OUTPUT)      the port table: INPUT(index, name, width) for each input
//                                and OUTPUT(index, name, width) for each output
//
// The accessors are chosen by the type Verilator stores each port in (CData, SData,
// IData, QData or VlWide<N>), so the generated part is only the table above.
//
// Verilator's runtime is compiled with VL_USER_FINISH, VL_USER_STOP and VL_USER_FATAL, so
// vl_finish, vl_stop and vl_fatal below replace its versions (which print and exit or
// abort the process), and with VL_PRINTF routed to hw_vl_printf (hw_runtime.cpp), so a
// model's "%Error" lines become the message of the status it stops with.

#include "hw_design.h"
#include "hw_shim.h"

#include HW_TOP_HEADER
#include "verilated.h"
#if defined(HW_TRACE_VCD)
#include "verilated_vcd_c.h"
#elif defined(HW_TRACE_FST)
#include "verilated_fst_c.h"
#endif

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <type_traits>

static_assert(HW_DESIGN_ABI_VERSION == HW_SHIM_ABI_VERSION,
              "hw_shim.h and the Swift side (VerilatorShim.abiVersion) disagree on the ABI version");

// Verilator's runtime calls this in place of printf (see hw_runtime.cpp).
void hw_vl_printf(const char* format, ...);

namespace {

#if defined(HW_TRACE_VCD)
#define HW_TRACING 1
using TraceFile = VerilatedVcdC;
#elif defined(HW_TRACE_FST)
#define HW_TRACING 1
using TraceFile = VerilatedFstC;
#endif

// Thrown by vl_fatal to leave the model's code; the reason is already recorded.
struct FatalUnwind {};

struct Model {
  std::unique_ptr<VerilatedContext> context;
  std::unique_ptr<HW_TOP_CLASS> top;
#ifdef HW_TRACING
  std::unique_ptr<TraceFile> trace;
  uint64_t lastDump = 0;
  bool dumped = false;
#endif
  uint64_t cycles = 0;
  int status = HW_RUNNING;
  // Set while hw_destroy runs final blocks: vl_fatal must not throw out of a destructor.
  bool tearingDown = false;
  std::string message;
  // The first "%Error" line printed since the current call began.
  std::string errorLine;
};

// The model whose code runs on this thread, for Verilator's global hooks.
thread_local Model* t_current = nullptr;

// Makes `model` current (for the hooks and for Verilator) for one shim call.
class Scope {
 public:
  explicit Scope(Model* model) : previous_(t_current) {
    t_current = model;
    Verilated::threadContextp(model->context.get());
  }
  ~Scope() { t_current = previous_; }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  Model* const previous_;
};

// Records why the model stopped; the first reason wins. A stop keeps the "%Error" line
// Verilator printed for it (which names the assertion), else "file:line: what".
void record(Model* m, int status, const char* filename, int linenum, const char* what) {
  if (m == nullptr || m->status != HW_RUNNING) return;
  m->status = status;
  if (status == HW_STOPPED && !m->errorLine.empty()) {
    m->message = m->errorLine;
    return;
  }
  m->message.clear();
  if (filename != nullptr && filename[0] != '\0') {
    m->message += filename;
    m->message += ':';
    m->message += std::to_string(linenum);
    m->message += ": ";
  }
  m->message += what;
}

void fail(Model* m, const char* what) {
  record(m, HW_FATAL, nullptr, 0, what);
  m->status = HW_FATAL;
}

// Runs `body` (model code) and turns what escapes it into a status.
template <typename Body>
int guarded(Model* m, Body body) {
  try {
    body();
  } catch (const FatalUnwind&) {
    // vl_fatal recorded the reason.
  } catch (const std::exception& e) {
    fail(m, e.what());
  } catch (...) {
    fail(m, "unknown C++ exception");
  }
  return m->status;
}

// --- Port storage -------------------------------------------------------------------------

// Bytes Verilator uses for a port of `width` bits.
constexpr std::size_t storageBytes(int width) {
  return width <= 8 ? 1 : width <= 16 ? 2 : width <= 32 ? 4 : width <= 64 ? 8 : 4 * ((width + 31) / 32);
}

constexpr uint64_t mask(int width) { return width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1; }

inline uint64_t word(const uint32_t* words, uint32_t count, uint32_t i) {
  return i < count ? static_cast<uint64_t>(words[i]) : 0;
}

// Narrow ports (CData, SData, IData, QData): one or two words.
template <typename T>
void store(T& port, int width, const uint32_t* words, uint32_t count) {
  static_assert(std::is_integral<T>::value, "narrow ports are integers");
  port = static_cast<T>((word(words, count, 0) | (word(words, count, 1) << 32)) & mask(width));
}

template <typename T>
void store64(T& port, int width, uint64_t value) {
  static_assert(std::is_integral<T>::value, "narrow ports are integers");
  port = static_cast<T>(value & mask(width));
}

template <typename T>
void load(const T& port, uint32_t* words, uint32_t count) {
  static_assert(std::is_integral<T>::value, "narrow ports are integers");
  const uint64_t value = port;
  for (uint32_t i = 0; i < count; ++i) words[i] = i < 2 ? static_cast<uint32_t>(value >> (32 * i)) : 0;
}

template <typename T>
uint64_t load64(const T& port) {
  static_assert(std::is_integral<T>::value, "narrow ports are integers");
  return port;
}

// Wide ports (VlWide<N>): N words, the top one masked to the width.
template <std::size_t N>
void store(VlWide<N>& port, int width, const uint32_t* words, uint32_t count) {
  for (std::size_t i = 0; i < N; ++i) port.at(i) = static_cast<uint32_t>(word(words, count, static_cast<uint32_t>(i)));
  if (width % 32 != 0) port.at(N - 1) &= (uint32_t{1} << (width % 32)) - 1;
}

template <std::size_t N>
void store64(VlWide<N>& port, int /*width*/, uint64_t value) {
  port.at(0) = static_cast<uint32_t>(value);
  port.at(1) = static_cast<uint32_t>(value >> 32);
  for (std::size_t i = 2; i < N; ++i) port.at(i) = 0;
}

template <std::size_t N>
void load(const VlWide<N>& port, uint32_t* words, uint32_t count) {
  for (uint32_t i = 0; i < count; ++i) words[i] = i < N ? port.at(i) : 0;
}

template <std::size_t N>
uint64_t load64(const VlWide<N>& port) {
  return static_cast<uint64_t>(port.at(0)) | (static_cast<uint64_t>(port.at(1)) << 32);
}

// --- The port table -----------------------------------------------------------------------

struct PortInfo {
  const char* name;
  int width;
  int isOutput;
};

#define HW_PORT_INFO_IN(index, name, width) {#name, width, 0},
#define HW_PORT_INFO_OUT(index, name, width) {#name, width, 1},
constexpr PortInfo kPorts[] = {HW_PORTS(HW_PORT_INFO_IN, HW_PORT_INFO_OUT)};
constexpr int kPortCount = static_cast<int>(sizeof kPorts / sizeof kPorts[0]);

// The spec's widths must be the ones Verilator chose storage for.
#define HW_PORT_CHECK(index, name, width)                                                  \
  static_assert(sizeof(HW_TOP_CLASS::name) == storageBytes(width),                         \
                #name ": Verilator stores this port differently from " #width " bits");   \
  static_assert(index >= 0 && index < kPortCount, #name ": port index out of range");
HW_PORTS(HW_PORT_CHECK, HW_PORT_CHECK)

const PortInfo* portInfo(int port) { return port >= 0 && port < kPortCount ? &kPorts[port] : nullptr; }

#ifdef HW_TRACING
// Dumps the current state, once per time value.
void dump(Model* m) {
  if (!m->trace) return;
  const uint64_t now = m->context->time();
  if (m->dumped && now <= m->lastDump) return;
  m->trace->dump(now);
  m->lastDump = now;
  m->dumped = true;
}
#endif

Model* model(void* handle) { return static_cast<Model*>(handle); }
const Model* model(const void* handle) { return static_cast<const Model*>(handle); }

}  // namespace

// --- Verilator's hooks --------------------------------------------------------------------

void vl_finish(const char* filename, int linenum, const char* /*hier*/) {
  Verilated::threadContextp()->gotFinish(true);
  record(t_current, HW_FINISHED, filename, linenum, "$finish");
}

void vl_stop(const char* filename, int linenum, const char* /*hier*/) {
  Verilated::threadContextp()->gotError(true);
  Verilated::threadContextp()->gotFinish(true);
  record(t_current, HW_STOPPED, filename, linenum, "$stop");
}

void vl_fatal(const char* filename, int linenum, const char* /*hier*/, const char* msg) {
  Model* const m = t_current;
  if (m == nullptr) {
    // Not inside a shim call: nobody could catch the exception.
    std::fprintf(stderr, "%%Error: %s:%d: %s\nAborting...\n", filename != nullptr ? filename : "", linenum, msg);
    std::abort();
  }
  Verilated::threadContextp()->gotError(true);
  Verilated::threadContextp()->gotFinish(true);
  record(m, HW_FATAL, filename, linenum, msg);
  m->status = HW_FATAL;
  // vl_fatal is not noreturn, so its callers cope with a return; destructors must not throw.
  if (!m->tearingDown) throw FatalUnwind{};
}

// Echoes the runtime's output and keeps the first "%Error" line as the stop message.
void hw_vl_printf(const char* format, ...) {
  char buffer[512];
  std::string heap;
  va_list args;
  va_start(args, format);
  va_list again;
  va_copy(again, args);
  const int length = std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  const char* text = buffer;
  if (length >= static_cast<int>(sizeof buffer)) {
    heap.resize(static_cast<std::size_t>(length) + 1);
    std::vsnprintf(&heap[0], heap.size(), format, again);
    text = heap.c_str();
  }
  va_end(again);
  if (length < 0) return;
  std::fputs(text, stdout);
  Model* const m = t_current;
  if (m != nullptr && m->status == HW_RUNNING && m->errorLine.empty()) {
    static const char kError[] = "%Error: ";
    if (const char* start = std::strstr(text, kError)) {
      start += sizeof kError - 1;
      const char* const end = std::strchr(start, '\n');
      m->errorLine.assign(start, end != nullptr ? static_cast<std::size_t>(end - start) : std::strlen(start));
    }
  }
}

// --- The C interface ----------------------------------------------------------------------

extern "C" {

int hw_abi_version(void) { return HW_SHIM_ABI_VERSION; }
const char* hw_cache_key(void) { return HW_CACHE_KEY; }

int hw_port_count(void) { return kPortCount; }
const char* hw_port_name(int port) { return portInfo(port) != nullptr ? portInfo(port)->name : nullptr; }
int hw_port_width(int port) { return portInfo(port) != nullptr ? portInfo(port)->width : 0; }
int hw_port_is_output(int port) { return portInfo(port) != nullptr ? portInfo(port)->isOutput : 0; }

int hw_status(const void* handle) { return model(handle)->status; }
const char* hw_error_message(const void* handle) { return model(handle)->message.c_str(); }
uint64_t hw_cycles(const void* handle) { return model(handle)->cycles; }

void* hw_create(const char* trace_path) {
  Model* const m = new (std::nothrow) Model;
  if (m == nullptr) return nullptr;
  try {
    m->context.reset(new VerilatedContext);
  } catch (...) {
    m->status = HW_FATAL;
    m->message = "cannot create the Verilated context";
    return m;
  }
  Scope scope(m);
  guarded(m, [&] {
    m->context->fatalOnError(false);
    m->context->threads(HW_THREADS);
#ifdef HW_TRACING
    const bool tracing = trace_path != nullptr && trace_path[0] != '\0';
    if (tracing) m->context->traceEverOn(true);
#else
    (void)trace_path;
#endif
    m->top.reset(new HW_TOP_CLASS(m->context.get(), "TOP"));
#ifdef HW_TRACING
    if (tracing) {
      m->trace.reset(new TraceFile);
      m->top->trace(m->trace.get(), 99);
      m->trace->open(trace_path);
      if (!m->trace->isOpen()) {
        fail(m, (std::string("cannot open trace file ") + trace_path).c_str());
        return;
      }
    }
#endif
#ifdef HW_CLOCK
    m->top->HW_CLOCK = 0;
#endif
    m->top->eval();  // runs initial blocks
  });
  return m;
}

void hw_destroy(void* handle) {
  Model* const m = model(handle);
  if (m == nullptr) return;
  if (m->context) {
    Scope scope(m);
    m->tearingDown = true;
    try {
      if (m->top && m->status != HW_FATAL) {
#ifdef HW_TRACING
        if (m->status == HW_RUNNING) m->top->eval();
        dump(m);
#endif
        m->top->final();
      }
#ifdef HW_TRACING
      if (m->trace) m->trace->close();
#endif
    } catch (...) {
      // Nothing to report to: the model is going away.
    }
#ifdef HW_TRACING
    m->trace.reset();
#endif
    m->top.reset();
  }
  delete m;
}

int hw_eval(void* handle) {
  Model* const m = model(handle);
  if (m->status != HW_RUNNING) return m->status;
  m->errorLine.clear();
  Scope scope(m);
  return guarded(m, [m] { m->top->eval(); });
}

int hw_step(void* handle, uint64_t n) {
  Model* const m = model(handle);
  if (m->status != HW_RUNNING) return m->status;
#ifdef HW_CLOCK
  m->errorLine.clear();
  Scope scope(m);
  HW_TOP_CLASS* const top = m->top.get();
  VerilatedContext* const context = m->context.get();
  return guarded(m, [&] {
    for (uint64_t i = 0; i < n; ++i) {
#ifdef HW_TRACING
      if (m->trace) {
        top->eval();  // shows the inputs set since the last step, with the clock low
        if (VL_UNLIKELY(m->status != HW_RUNNING)) break;
        dump(m);
      }
#endif
      context->timeInc(1);
      top->HW_CLOCK = 1;
      ++m->cycles;
      top->eval();
#ifdef HW_TRACING
      if (m->trace) dump(m);
#endif
      if (VL_UNLIKELY(m->status != HW_RUNNING)) break;
      context->timeInc(1);
      top->HW_CLOCK = 0;
      top->eval();
      if (VL_UNLIKELY(m->status != HW_RUNNING)) break;
    }
  });
#else
  (void)n;
  return -1;  // no clock port
#endif
}

#define HW_IGNORE_PORT(index, name, width)

int hw_set(void* handle, int port, const uint32_t* words, uint32_t count) {
  HW_TOP_CLASS* const top = model(handle)->top.get();
  switch (port) {
#define HW_SET_CASE(index, name, width)         \
  case index:                                   \
    store(top->name, width, words, count);      \
    return 0;
    HW_PORTS(HW_SET_CASE, HW_IGNORE_PORT)
#undef HW_SET_CASE
    default:
      return -1;
  }
}

int hw_set64(void* handle, int port, uint64_t value) {
  HW_TOP_CLASS* const top = model(handle)->top.get();
  switch (port) {
#define HW_SET64_CASE(index, name, width) \
  case index:                             \
    store64(top->name, width, value);     \
    return 0;
    HW_PORTS(HW_SET64_CASE, HW_IGNORE_PORT)
#undef HW_SET64_CASE
    default:
      return -1;
  }
}

int hw_get(const void* handle, int port, uint32_t* words, uint32_t count) {
  const HW_TOP_CLASS* const top = model(handle)->top.get();
  switch (port) {
#define HW_GET_CASE(index, name, width) \
  case index:                           \
    load(top->name, words, count);      \
    return 0;
    HW_PORTS(HW_GET_CASE, HW_GET_CASE)
#undef HW_GET_CASE
    default:
      return -1;
  }
}

uint64_t hw_get64(const void* handle, int port) {
  const HW_TOP_CLASS* const top = model(handle)->top.get();
  switch (port) {
#define HW_GET64_CASE(index, name, width) \
  case index:                             \
    return load64(top->name);
    HW_PORTS(HW_GET64_CASE, HW_GET64_CASE)
#undef HW_GET64_CASE
    default:
      return 0;
  }
}

}  // extern "C"
