// examples/harness/audit.hpp — one JSON line per execution, and reading them back.
//
//     {"job":"daily_reward","slot":"2026-11-01T16:00:00Z","replica":"replica-2","fencing":17,
//      "outcome":"ok","detail":"granted 100 rewards","started":"…","finished":"…"}
//
// outcome is "ok", "fenced" (the store refused a write: a newer holder took over) or
// "failed". Several processes may append to one file: each line is one write(2) on an
// O_APPEND descriptor, so lines never interleave.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sked/clock.hpp>
#include <sked/json.hpp>
#include <sked/result.hpp>
#include <sked/rfc3339.hpp>

namespace example {

struct execution {
    std::string job{};
    std::chrono::sys_seconds slot{};
    std::string replica{};
    std::uint64_t fencing = 0;
    std::string outcome{};
    std::string detail{};
    sked::instant started{}, finished{};
    std::string key{};  ///< a one-off job's key (`job` is its kind, `slot` its due time)
};

namespace detail {

/// The value of "name" in one of our own flat lines (strings and unsigned numbers only).
inline std::optional<std::string> field(std::string_view line, std::string_view name) {
    const std::string needle = "\"" + std::string(name) + "\":";
    const auto at = line.find(needle);
    if (at == std::string_view::npos) return std::nullopt;
    std::string_view rest = line.substr(at + needle.size());
    std::string value;
    if (rest.starts_with('"')) {  // the escapes sked::json_quoted writes: \" \\ \u00XX
        for (std::size_t i = 1; i < rest.size(); ++i) {
            if (rest[i] == '"') return value;
            if (rest.substr(i).starts_with("\\u00")) {
                unsigned byte = 0;
                const auto hex = rest.substr(i + 4, 2);
                if (hex.size() != 2 || std::from_chars(hex.data(), hex.data() + 2, byte, 16).ptr != hex.data() + 2)
                    return std::nullopt;
                value += static_cast<char>(byte);
                i += 5;
                continue;
            }
            if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
            value += rest[i];
        }
        return std::nullopt;
    }
    for (const char c : rest) {
        if (c < '0' || c > '9') break;
        value += c;
    }
    if (value.empty()) return std::nullopt;
    return value;
}

}  // namespace detail

inline std::string to_json(const execution& e) {
    std::string line = "{\"job\":";
    sked::append_json_quoted(line, e.job);
    if (!e.key.empty()) {
        line.append(",\"key\":");
        sked::append_json_quoted(line, e.key);
    }
    line.append(",\"slot\":\"").append(sked::rfc3339(e.slot)).append("\",\"replica\":");
    sked::append_json_quoted(line, e.replica);
    line.append(",\"fencing\":").append(std::to_string(e.fencing)).append(",\"outcome\":");
    sked::append_json_quoted(line, e.outcome);
    line.append(",\"detail\":");
    sked::append_json_quoted(line, e.detail);
    line.append(",\"started\":\"").append(sked::rfc3339_ms(e.started)).append("\",\"finished\":\"");
    return line.append(sked::rfc3339_ms(e.finished)).append("\"}");
}

inline std::optional<execution> parse_execution(std::string_view line) {
    auto job = detail::field(line, "job"), slot = detail::field(line, "slot"), replica = detail::field(line, "replica"),
         fencing = detail::field(line, "fencing"), outcome = detail::field(line, "outcome"),
         started = detail::field(line, "started"), finished = detail::field(line, "finished");
    if (!job || !slot || !replica || !fencing || !outcome || !started || !finished) return std::nullopt;
    const auto nominal = sked::parse_rfc3339(*slot);
    const auto from = sked::parse_rfc3339(*started), to = sked::parse_rfc3339(*finished);
    if (!nominal || !from || !to) return std::nullopt;
    return execution{*job,
                     std::chrono::floor<std::chrono::seconds>(*nominal),
                     *replica,
                     std::stoull(*fencing),
                     *outcome,
                     detail::field(line, "detail").value_or(""),
                     *from,
                     *to,
                     detail::field(line, "key").value_or("")};
}

/// Reads audit files; the error names the file and line that is not an audit line.
inline sked::result<std::vector<execution>, std::string> read_audit(const std::vector<std::string>& files) {
    std::vector<execution> all;
    for (const auto& file : files) {
        std::ifstream in(file);
        if (!in) return file + ": cannot open";
        std::string line;
        for (std::size_t number = 1; std::getline(in, line); ++number) {
            if (line.empty()) continue;
            auto e = parse_execution(line);
            if (!e) return file + ":" + std::to_string(number) + ": not an audit line: " + line.substr(0, 80);
            all.push_back(std::move(*e));
        }
    }
    return all;
}

/// Collects this process's executions, and appends them to a file when one is given.
class audit_log {
public:
    explicit audit_log(const std::optional<std::string>& path) {
        if (path) fd_ = ::open(path->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }
    audit_log(const audit_log&) = delete;
    audit_log& operator=(const audit_log&) = delete;
    ~audit_log() {
        if (fd_ >= 0) ::close(fd_);
    }
    [[nodiscard]] bool failed_to_open(const std::optional<std::string>& path) const { return path && fd_ < 0; }

    void record(execution e) {
        const std::string line = to_json(e) + "\n";
        std::lock_guard hold{mutex_};
        if (fd_ >= 0 && ::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
            std::fprintf(stderr, "audit: write failed\n");
        all_.push_back(std::move(e));
    }
    [[nodiscard]] std::vector<execution> all() const {
        std::lock_guard hold{mutex_};
        return all_;
    }

private:
    int fd_ = -1;
    mutable std::mutex mutex_;
    std::vector<execution> all_;
};

}  // namespace example
