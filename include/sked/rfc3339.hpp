// sked/rfc3339.hpp — instants as RFC 3339 text, and back.
//
//     sked::rfc3339(slot)                           // "2026-11-23T00:00:00Z"
//     sked::rfc3339(slot, std::chrono::hours{8})    // "2026-11-23T08:00:00+08:00"
//     sked::rfc3339_ms(started)                     // "2026-11-23T00:00:00.250Z"
//     sked::parse_rfc3339("2026-11-24T00:00:00+08:00")   // the instant, or a sked::text_error
//
// Run keys, log lines, status, the tool and the examples all write and read instants
// here, so they agree to the byte. Times are UTC unless an offset is given.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "clock.hpp"
#include "result.hpp"
#include "text_error.hpp"

namespace sked {

/// `t` in UTC, to the second: "2026-11-23T00:00:00Z".
inline std::string rfc3339(std::chrono::sys_seconds t);

/// `t` as local time at `offset` from UTC (whole minutes): "2026-11-23T08:00:00+08:00".
inline std::string rfc3339(std::chrono::sys_seconds t, std::chrono::seconds offset);

/// `t` in UTC, to the millisecond: "2026-11-23T00:00:00.250Z".
inline std::string rfc3339_ms(instant t);

/// Reads "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)"; 't', 'z' and a space for 'T'
/// are accepted as the RFC allows. A fraction is cut to milliseconds.
inline result<instant, text_error> parse_rfc3339(std::string_view text);

// =======================================================================================
// Implementation
// =======================================================================================

namespace detail {

/// Writes "YYYY-MM-DDTHH:MM:SS" of `local` (a time already shifted to the wanted offset)
/// and then `suffix`, as one string.
inline std::string civil_text(std::chrono::sys_seconds local, std::string_view suffix) {
    using namespace std::chrono;
    const auto day = floor<days>(local);
    const year_month_day date{day};
    const hh_mm_ss time{local - day};
    char text[64];
    const int length =
        std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d%.*s", static_cast<int>(date.year()),
                      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                      static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                      static_cast<int>(time.seconds().count()), static_cast<int>(suffix.size()), suffix.data());
    return std::string(text, static_cast<std::size_t>(length));
}

/// Reads RFC 3339 left to right; each step either advances or records why it could not.
class rfc3339_reader {
public:
    explicit rfc3339_reader(std::string_view text) : text_(text) {}

    result<instant, text_error> read() {
        using namespace std::chrono;
        int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
        if (!number(4, year, "expected a four-digit year") || !expect("-", "expected '-' after the year") ||
            !number(2, month, "expected a two-digit month") || !expect("-", "expected '-' after the month") ||
            !number(2, day, "expected a two-digit day") || !expect("Tt ", "expected 'T' after the date") ||
            !number(2, hour, "expected a two-digit hour") || !expect(":", "expected ':' after the hour") ||
            !number(2, minute, "expected two-digit minutes") || !expect(":", "expected ':' after the minutes") ||
            !number(2, second, "expected two-digit seconds"))
            return error_;
        const year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                  std::chrono::day{static_cast<unsigned>(day)}};
        if (month < 1 || month > 12) return text_error{5, "the month is not 01-12"};
        if (!date.ok()) return text_error{8, "the month has no such day"};
        if (hour > 23 || minute > 59 || second > 59) return text_error{11, "the time of day is out of range"};
        const auto ms = fraction();
        const std::size_t offset_at = at_;
        const auto offset = ms ? zone_offset() : std::nullopt;
        if (!offset) return error_;
        if (at_ != text_.size()) return text_error{at_, "unexpected text after the instant"};
        const auto t = instant{sys_days{date}} + hours{hour} + minutes{minute} + seconds{second} + *ms - *offset;
        // What RFC 3339 can write back: years 0000-9999 in UTC (an offset can step outside).
        if (t < instant{sys_days{std::chrono::year{0} / 1 / 1}} ||
            t >= instant{sys_days{std::chrono::year{10000} / 1 / 1}})
            return text_error{offset_at, "the instant is outside years 0000-9999 in UTC"};
        return t;
    }

private:
    bool number(std::size_t digits, int& out, std::string_view why) {
        out = 0;
        for (std::size_t i = 0; i < digits; ++i, ++at_) {
            if (at_ >= text_.size() || text_[at_] < '0' || text_[at_] > '9') return fail(why);
            out = out * 10 + (text_[at_] - '0');
        }
        return true;
    }
    bool expect(std::string_view any_of, std::string_view why) {
        if (at_ >= text_.size() || any_of.find(text_[at_]) == std::string_view::npos) return fail(why);
        ++at_;
        return true;
    }
    bool fail(std::string_view why) {
        error_ = text_error{at_, why};
        return false;
    }
    // ".250", ".5" or ".123456789": the first three digits count.
    std::optional<std::chrono::milliseconds> fraction() {
        if (at_ >= text_.size() || text_[at_] != '.') return std::chrono::milliseconds{0};
        const std::size_t first = ++at_;
        int ms = 0;
        for (; at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9'; ++at_)
            if (at_ - first < 3) ms = ms * 10 + (text_[at_] - '0');
        if (at_ == first) return fail("expected digits after '.'"), std::nullopt;
        for (std::size_t digits = at_ - first; digits < 3; ++digits)
            ms *= 10;
        return std::chrono::milliseconds{ms};
    }
    std::optional<std::chrono::minutes> zone_offset() {
        if (at_ < text_.size() && (text_[at_] == 'Z' || text_[at_] == 'z')) {
            ++at_;
            return std::chrono::minutes{0};
        }
        const bool negative = at_ < text_.size() && text_[at_] == '-';
        int hours = 0, minutes = 0;
        if (!expect("+-", "expected 'Z' or an offset like +08:00") ||
            !number(2, hours, "expected a two-digit offset") || !expect(":", "expected ':' in the offset") ||
            !number(2, minutes, "expected a two-digit offset"))
            return std::nullopt;
        if (hours > 23 || minutes > 59) return fail("the offset is out of range"), std::nullopt;
        return std::chrono::minutes{(hours * 60 + minutes) * (negative ? -1 : 1)};
    }

    std::string_view text_;
    std::size_t at_ = 0;
    text_error error_{};
};

}  // namespace detail

inline std::string rfc3339(std::chrono::sys_seconds t) { return detail::civil_text(t, "Z"); }

inline std::string rfc3339(std::chrono::sys_seconds t, std::chrono::seconds offset) {
    const auto minutes = (offset.count() < 0 ? -offset.count() : offset.count()) / 60;
    char suffix[48];
    std::snprintf(suffix, sizeof suffix, "%c%02lld:%02lld", offset.count() < 0 ? '-' : '+',
                  static_cast<long long>(minutes / 60), static_cast<long long>(minutes % 60));
    return detail::civil_text(t + offset, suffix);
}

inline std::string rfc3339_ms(instant t) {
    const auto whole = std::chrono::floor<std::chrono::seconds>(t);
    char fraction[16];
    std::snprintf(fraction, sizeof fraction, ".%03dZ", static_cast<int>((t - whole).count()));
    return detail::civil_text(whole, fraction);
}

inline result<instant, text_error> parse_rfc3339(std::string_view text) { return detail::rfc3339_reader{text}.read(); }

}  // namespace sked
