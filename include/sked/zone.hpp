// sked/zone.hpp — time zones as a small concept.
//
// A zone answers one question: at UTC instant t, what is the offset, and over which
// UTC interval [begin, end) does that offset hold? That is all the cron search needs to
// walk local time across DST changes. sked ships UTC and fixed offsets here; IANA zones
// come from Howard Hinnant's date library (adapters/date: sked/date_zone.hpp, CMake
// sked::date), or from any type with a segment() of its own.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>

namespace sked {

/// A span of UTC time with one UTC offset (local = UTC + offset).
struct zone_segment {
    std::chrono::seconds offset{0};
    std::chrono::sys_seconds begin;  ///< first instant (UTC) of the span
    std::chrono::sys_seconds end;  ///< first instant (UTC) after it
};

/// Instants beyond which zones report no further change; far enough for any calendar
/// search (about ±142 million years) yet safe to add offsets to.
inline constexpr std::chrono::sys_seconds zone_far_past{std::chrono::seconds{-(std::int64_t{1} << 52)}};
inline constexpr std::chrono::sys_seconds zone_far_future{std::chrono::seconds{std::int64_t{1} << 52}};

/// A type usable as a zone: `z.segment(t)` returns the zone_segment containing UTC t.
template <class Z>
concept time_zone = requires(const Z& zone, std::chrono::sys_seconds t) {
    { zone.segment(t) } -> std::same_as<zone_segment>;
};

/// Coordinated Universal Time.
struct utc_zone {
    constexpr zone_segment segment(std::chrono::sys_seconds) const noexcept {
        return {std::chrono::seconds{0}, zone_far_past, zone_far_future};
    }
};

/// A constant offset from UTC, e.g. fixed_zone{std::chrono::hours{8}} for UTC+08:00.
struct fixed_zone {
    std::chrono::seconds offset{0};

    constexpr zone_segment segment(std::chrono::sys_seconds) const noexcept {
        return {offset, zone_far_past, zone_far_future};
    }
};

static_assert(time_zone<utc_zone> && time_zone<fixed_zone>);

}  // namespace sked
