#include "cli/prom_text.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace augur::cli {
namespace {

absl::Status LineError(int line, const std::string& what) {
  return absl::InvalidArgumentError("line " + std::to_string(line) + ": " + what);
}

bool ParseValue(absl::string_view s, double* v) {
  if (s == "+Inf" || s == "Inf") return *v = std::numeric_limits<double>::infinity(), true;
  if (s == "-Inf") return *v = -std::numeric_limits<double>::infinity(), true;
  if (s == "NaN") return *v = std::numeric_limits<double>::quiet_NaN(), true;
  return absl::SimpleAtod(s, v);
}

bool NameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

// Parses `{a="x",b="y"}` starting at s[*i] == '{'; leaves *i after the '}'.
absl::Status ParseLabels(absl::string_view s, size_t* i, int line,
                         std::map<std::string, std::string>* labels) {
  ++*i;
  for (;;) {
    while (*i < s.size() && (s[*i] == ' ' || s[*i] == ',')) ++*i;
    if (*i < s.size() && s[*i] == '}') return ++*i, absl::OkStatus();
    size_t start = *i;
    while (*i < s.size() && NameChar(s[*i], *i == start)) ++*i;
    if (*i == start) return LineError(line, "expected a label name");
    std::string key(s.substr(start, *i - start));
    if (*i + 1 >= s.size() || s[*i] != '=' || s[*i + 1] != '"')
      return LineError(line, "expected =\" after label " + key);
    *i += 2;
    std::string value;
    for (;;) {
      if (*i >= s.size()) return LineError(line, "unterminated value of label " + key);
      char c = s[(*i)++];
      if (c == '"') break;
      if (c == '\\' && *i < s.size()) {
        char e = s[(*i)++];
        value += e == 'n' ? '\n' : e;
      } else {
        value += c;
      }
    }
    (*labels)[key] = value;
  }
}

bool Matches(const PromSample& s, const std::string& name,
             const std::map<std::string, std::string>& match) {
  if (s.name != name) return false;
  for (const auto& [k, v] : match) {
    auto it = s.labels.find(k);
    if (it == s.labels.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::vector<PromSample>> ParsePrometheusText(const std::string& text) {
  std::vector<PromSample> out;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size() || line[i] == '#') continue;
    PromSample s;
    size_t start = i;
    while (i < line.size() && NameChar(line[i], i == start)) ++i;
    if (i == start) return LineError(line_no, "expected a metric name");
    s.name = std::string(line.substr(start, i - start));
    if (i < line.size() && line[i] == '{') {
      auto st = ParseLabels(line, &i, line_no, &s.labels);
      if (!st.ok()) return st;
    }
    std::vector<absl::string_view> rest =
        absl::StrSplit(line.substr(i), absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (rest.empty() || rest.size() > 2) return LineError(line_no, "expected a value after " + s.name);
    if (!ParseValue(rest[0], &s.value))
      return LineError(line_no, "bad value '" + std::string(rest[0]) + "'");
    out.push_back(std::move(s));
  }
  return out;
}

double SumSamples(const std::vector<PromSample>& samples, const std::string& name,
                  const std::map<std::string, std::string>& match) {
  double sum = 0;
  for (const auto& s : samples)
    if (Matches(s, name, match)) sum += s.value;
  return sum;
}

bool HasSample(const std::vector<PromSample>& samples, const std::string& name) {
  for (const auto& s : samples)
    if (s.name == name) return true;
  return false;
}

std::vector<std::string> LabelValues(const std::vector<PromSample>& samples,
                                     const std::string& name, const std::string& label) {
  std::map<std::string, bool> seen;
  for (const auto& s : samples)
    if (s.name == name)
      if (auto it = s.labels.find(label); it != s.labels.end()) seen[it->second] = true;
  std::vector<std::string> out;
  for (const auto& [v, unused] : seen) out.push_back(v);
  return out;
}

std::map<double, double> HistogramBuckets(const std::vector<PromSample>& samples,
                                          const std::string& name,
                                          const std::map<std::string, std::string>& match) {
  std::map<double, double> buckets;
  for (const auto& s : samples) {
    if (!Matches(s, name + "_bucket", match)) continue;
    auto le = s.labels.find("le");
    double bound;
    if (le == s.labels.end() || !ParseValue(le->second, &bound)) continue;
    buckets[bound] += s.value;
  }
  return buckets;
}

double HistogramQuantile(const std::map<double, double>& buckets, double q) {
  if (buckets.empty()) return std::nan("");
  double total = buckets.rbegin()->second;
  if (!(total > 0)) return std::nan("");
  double rank = q * total, prev_bound = 0, prev_count = 0, last_finite = 0;
  for (const auto& [bound, count] : buckets) {
    if (std::isinf(bound)) return last_finite;
    if (count >= rank) {
      if (count == prev_count) return bound;
      return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count);
    }
    prev_bound = bound, prev_count = count, last_finite = bound;
  }
  return last_finite;
}

}  // namespace augur::cli
