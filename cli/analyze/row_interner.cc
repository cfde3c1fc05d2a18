#include "cli/analyze/row_interner.h"

namespace augur::analyze {

namespace {
constexpr int kInitialBits = 16;
constexpr size_t kPrefetchAhead = 8;
}  // namespace

RowInterner::RowInterner() : slots_(size_t{1} << kInitialBits), shift_(64 - kInitialBits) {}

void RowInterner::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  --shift_;
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.key_plus_one == 0) continue;
    size_t i = Home(s.key_plus_one - 1);
    while (slots_[i].key_plus_one != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void RowInterner::Intern(std::span<const plan::RowKey> keys, std::vector<uint32_t>* ids) {
  ids->resize(keys.size());
  // Growing inside the loop would move the prefetched slots: make room for the whole slice first.
  while (2 * (size_ + static_cast<int64_t>(keys.size())) > static_cast<int64_t>(slots_.size())) Grow();
  const size_t mask = slots_.size() - 1;
  for (size_t j = 0; j < keys.size(); ++j) {
    if (j + kPrefetchAhead < keys.size()) __builtin_prefetch(&slots_[Home(keys[j + kPrefetchAhead])]);
    const uint64_t want = keys[j] + 1;
    size_t i = Home(keys[j]);
    while (slots_[i].key_plus_one != want && slots_[i].key_plus_one != 0) i = (i + 1) & mask;
    if (slots_[i].key_plus_one == 0) slots_[i] = {want, static_cast<uint32_t>(size_++)};
    (*ids)[j] = slots_[i].id;
  }
}

}  // namespace augur::analyze
