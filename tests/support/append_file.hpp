// tests/support/append_file.hpp — a file several processes append lines to: each line is
// one write(2) on an O_APPEND descriptor, so lines never interleave.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <string_view>

namespace sked::test {

class append_file {
public:
    explicit append_file(const char* path) : fd_(::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {}
    ~append_file() {
        if (fd_ >= 0) ::close(fd_);
    }
    append_file(const append_file&) = delete;
    append_file& operator=(const append_file&) = delete;

    [[nodiscard]] bool open() const { return fd_ >= 0; }
    /// Appends `line` (which ends with its newline) in one write.
    void write(std::string_view line) const {
        if (fd_ >= 0) (void)::write(fd_, line.data(), line.size());
    }

private:
    int fd_;
};

}  // namespace sked::test
