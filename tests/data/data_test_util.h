// Helpers for the data tests: whole-file I/O and an independent, deliberately naive reading of the
// raw Criteo samples (std::getline + split), so expected values never come from the code under test.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace augur::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
}

inline std::vector<std::string> SplitOn(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

struct NaiveCounts {
  long rows = 0;
  long label_sum = 0;
};

// Rows and label sum of a TSV (label = field 0) or a CSV with a header (label column by name).
inline NaiveCounts NaiveCount(const std::string& path, bool csv) {
  std::ifstream in(path);
  std::string line;
  NaiveCounts c;
  int label_col = 0;
  if (csv) {
    std::getline(in, line);
    auto names = SplitOn(line, ',');
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "label" || names[i] == "Label") label_col = static_cast<int>(i);
    }
  }
  while (std::getline(in, line)) {
    if (line.empty() || line == "\r") continue;
    auto f = SplitOn(line, csv ? ',' : '\t');
    ++c.rows;
    c.label_sum += std::stol(f[label_col]);
  }
  return c;
}

}  // namespace augur::testing
