// libFuzzer target for the Criteo line parser (both layouts); tests/fuzz/run.sh builds and runs
// it. Seeds: lines of ../shared/data/criteo-kaggle/*.tsv, when that folder exists.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/data/criteo_line.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace augur::data;
  static const CriteoLayout tsv = CriteoLayout::Tsv();
  static const CriteoLayout csv =
      *CriteoLayout::FromCsvHeader("Id,Label,I1,I2,I3,I4,I5,I6,I7,I8,I9,I10,I11,I12,I13,C1,C2,C3,"
                                   "C4,C5,C6,C7,C8,C9,C10,C11,C12,C13,C14,C15,C16,C17,C18,C19,C20,"
                                   "C21,C22,C23,C24,C25,C26");
  std::string_view line(reinterpret_cast<const char*>(data), size);
  CriteoRow row;
  LineError e = ParseCriteoLine(line, tsv, &row);
  if (e.ok() && row.label > 1) __builtin_trap();
  (void)ParseCriteoLine(line, csv, &row);
  (void)CriteoLayout::FromCsvHeader(line);
  return 0;
}
