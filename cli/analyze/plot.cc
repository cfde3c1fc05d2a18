#include "cli/analyze/plot.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace augur::analyze {

absl::Status PlotHitRates(const AnalyzeReport& report, const std::string& path,
                          const std::string& title) {
  std::string terminal;
  if (absl::EndsWith(path, ".png")) {
    terminal = "pngcairo size 900,600";
  } else if (absl::EndsWith(path, ".svg")) {
    terminal = "svg size 900,600";
  } else {
    return absl::InvalidArgumentError(absl::StrCat("--plot ", path, ": use a .png or .svg file"));
  }
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    return absl::FailedPreconditionError(
        "gnuplot not found on PATH; install gnuplot-nox or drop --plot");
  }
  std::map<std::string, std::vector<const PolicyResult*>> lines;
  std::vector<std::string> order;
  for (const auto& r : report.results) {
    std::string name(PolicyName(r.policy));
    if (!lines.count(name)) order.push_back(name);
    lines[name].push_back(&r);
  }
  FILE* gp = popen("gnuplot", "w");
  if (gp == nullptr) return absl::InternalError("cannot start gnuplot");
  std::string script = absl::StrCat(
      "set terminal ", terminal, "\nset output '", path, "'\nset title '", title,
      "'\nset xlabel 'cache capacity per worker (rows)'\nset ylabel 'hit rate'\n"
      "set yrange [0:1]\nset key bottom right\nset grid\nplot ");
  for (size_t i = 0; i < order.size(); ++i) {
    absl::StrAppend(&script, i ? ", " : "", "'-' using 1:2 with linespoints title '", order[i],
                    "'");
  }
  script += "\n";
  for (const auto& name : order) {
    for (const PolicyResult* r : lines[name]) absl::StrAppend(&script, r->capacity, " ", r->hit_rate, "\n");
    script += "e\n";
  }
  std::fwrite(script.data(), 1, script.size(), gp);
  int rc = pclose(gp);
  if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
    return absl::InternalError(absl::StrCat("gnuplot failed writing ", path));
  }
  return absl::OkStatus();
}

}  // namespace augur::analyze
