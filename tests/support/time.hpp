// tests/support/time.hpp — readable instants for tests: at("2026-11-23T00:00:00Z").
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sked/cron.hpp>
#include <sked/rfc3339.hpp>
#include <sked/zoned.hpp>

namespace sked::test {

inline std::chrono::sys_seconds at(std::string_view rfc3339) {
    const auto t = parse_rfc3339(rfc3339);
    if (!t || *t != std::chrono::floor<std::chrono::seconds>(*t))
        throw std::invalid_argument("bad instant in test: " + std::string(rfc3339));
    return std::chrono::floor<std::chrono::seconds>(*t);
}

inline std::string utc(std::chrono::sys_seconds t) { return sked::rfc3339(t); }
inline std::string utc(std::optional<std::chrono::sys_seconds> t) { return t ? utc(*t) : "none"; }

inline cron must_parse(std::string_view text, const parse_options& options = {}) {
    const auto parsed = cron::parse(text, options);
    if (!parsed) throw std::invalid_argument(std::string(parsed.error().message().view()));
    return *parsed;
}

/// The first `count` occurrences after `from`, as UTC RFC 3339 strings.
template <class Zone = utc_zone>
std::vector<std::string> upcoming(const cron& expr, std::string_view from, int count, const Zone& zone = {}) {
    std::vector<std::string> out;
    for (const auto t : occurrences(expr, at(from), zone)) {
        if (static_cast<int>(out.size()) == count) break;
        out.push_back(utc(t));
    }
    return out;
}

/// The same, shown in the zone's local time with its offset.
template <class Zone>
std::vector<std::string> upcoming_local(const cron& expr, std::string_view from, int count, const Zone& zone) {
    std::vector<std::string> out;
    for (const auto t : occurrences(expr, at(from), zone)) {
        if (static_cast<int>(out.size()) == count) break;
        out.push_back(sked::rfc3339(t, zone.segment(t).offset));
    }
    return out;
}

inline std::vector<std::string> upcoming(std::string_view expr, std::string_view from, int count,
                                         const parse_options& options = {}) {
    return upcoming(must_parse(expr, options), from, count);
}

}  // namespace sked::test
