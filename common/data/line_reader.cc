// A refill-and-scan reader: memchr finds line ends inside a large buffer; the unfinished tail is
// moved to the front before the next refill. Plain files use read(2), gzip files zlib's gzread.
#include "common/data/line_reader.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace augur::data {
namespace {

absl::Status ErrnoStatus(int err, const std::string& what) {
  std::string msg = absl::StrCat(what, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(msg);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(msg);
  return absl::InternalError(msg);
}

class BufferedLineReader : public LineReader {
 public:
  BufferedLineReader(std::string path, int fd, gzFile gz, size_t buffer_bytes)
      : path_(std::move(path)), fd_(fd), gz_(gz), buf_(buffer_bytes) {}
  ~BufferedLineReader() override {
    if (gz_ != nullptr) gzclose(gz_);
    if (fd_ >= 0) close(fd_);
  }

  bool Next(std::string_view* line) override {
    while (true) {
      const char* hit =
          static_cast<const char*>(std::memchr(buf_.data() + pos_, '\n', end_ - pos_));
      if (hit != nullptr) {
        size_t len = static_cast<size_t>(hit - (buf_.data() + pos_));
        Emit(line, len, len + 1);
        return true;
      }
      if (eof_) {
        if (pos_ == end_) return false;
        Emit(line, end_ - pos_, end_ - pos_);  // last line without '\n'
        return true;
      }
      if (!Refill()) return false;
    }
  }
  int64_t line_number() const override { return line_number_; }
  int64_t bytes_read() const override { return consumed_; }
  const absl::Status& status() const override { return status_; }

 private:
  void Emit(std::string_view* line, size_t len, size_t advance) {
    std::string_view l(buf_.data() + pos_, len);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    *line = l;
    pos_ += advance;
    consumed_ += static_cast<int64_t>(advance);
    ++line_number_;
  }

  bool Refill() {
    if (pos_ > 0) {
      std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    if (end_ == buf_.size()) {
      status_ = absl::InvalidArgumentError(absl::StrCat(
          path_, ":", line_number_ + 1, ": line longer than ", buf_.size(), " bytes"));
      return false;
    }
    size_t want = buf_.size() - end_;
    long got;
    if (gz_ != nullptr) {
      got = gzread(gz_, buf_.data() + end_, static_cast<unsigned>(want));
      if (got < 0) {
        int errnum;
        const char* msg = gzerror(gz_, &errnum);
        status_ = absl::DataLossError(absl::StrCat(path_, ": gzip error: ", msg));
        return false;
      }
    } else {
      do {
        got = read(fd_, buf_.data() + end_, want);
      } while (got < 0 && errno == EINTR);
      if (got < 0) {
        status_ = ErrnoStatus(errno, absl::StrCat("read ", path_));
        return false;
      }
    }
    if (got == 0) eof_ = true;
    end_ += static_cast<size_t>(got);
    return true;
  }

  std::string path_;
  int fd_;
  gzFile gz_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t line_number_ = 0;
  int64_t consumed_ = 0;
  absl::Status status_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path,
                                                            size_t buffer_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("open ", path));
  gzFile gz = nullptr;
  if (absl::EndsWith(path, ".gz")) {
    gz = gzdopen(fd, "rb");
    if (gz == nullptr) {
      close(fd);
      return absl::InternalError(absl::StrCat("gzdopen ", path, " failed"));
    }
    gzbuffer(gz, 1 << 20);
    fd = -1;  // owned by gz now
  } else {
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  return std::unique_ptr<LineReader>(new BufferedLineReader(path, fd, gz, buffer_bytes));
}

}  // namespace augur::data
