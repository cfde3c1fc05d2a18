// The time seam (STYLE.md item 7): code that measures or waits takes a Clock so tests can run it
// on a fake clock. SystemClock is the real one; FakeClock only moves when told.
#pragma once

#include <atomic>
#include <cstdint>

namespace augur {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time in nanoseconds since an arbitrary epoch.
  virtual int64_t NowNanos() const = 0;
  double NowSeconds() const { return static_cast<double>(NowNanos()) * 1e-9; }
};

class SystemClock final : public Clock {
 public:
  int64_t NowNanos() const override;
  // A process-wide instance; it holds no state, so sharing it is safe.
  static const SystemClock* Get();
};

// Thread-safe; Advance may be called from any thread.
class FakeClock final : public Clock {
 public:
  int64_t NowNanos() const override { return now_.load(); }
  void Advance(int64_t nanos) { now_.fetch_add(nanos); }

 private:
  std::atomic<int64_t> now_{0};
};

}  // namespace augur
