// sked/detail/cron_spec.hpp — the parsed form of a cron expression: one bit mask per
// field, plus the few day rules (L, W, #) that depend on the month and so cannot be
// folded into a fixed mask.
#pragma once

#include <array>
#include <cstdint>

#include "../cron_error.hpp"
#include "fixed_string.hpp"

namespace sked::detail {

inline constexpr int first_year = 1970;  // range of the optional year field (as Quartz)
inline constexpr int last_year = 2099;

// Masks of fields that allow every value.
inline constexpr std::uint32_t every_hour = 0xff'ffff;  // 0-23
inline constexpr std::uint32_t every_day = 0xffff'fffe;  // 1-31
inline constexpr std::uint16_t every_month = 0x1ffe;  // 1-12
inline constexpr std::uint8_t every_weekday = 0x7f;  // 0-6

/// Bit i of a mask is value i of the field (bit 0 of `days` and `months` is unused).
struct cron_spec {
    std::uint64_t seconds = 0;
    std::uint64_t minutes = 0;
    std::uint32_t hours = 0;
    std::uint32_t days = 0;  // 1-31
    std::uint32_t last_day_offsets = 0;  // L-n: bit n (L = L-0)
    std::uint32_t nearest_weekdays = 0;  // nW: bit n
    std::uint64_t nth_weekdays = 0;  // d#k: bit (k-1)*7 + d
    std::uint16_t months = 0;  // 1-12
    std::uint8_t weekdays = 0;  // 0-6, 0 = Sunday
    std::uint8_t last_weekdays = 0;  // dL: bit d
    bool last_weekday_of_month = false;  // LW
    bool any_year = true;
    std::array<std::uint64_t, 3> years{};  // bit y - first_year

    /// Bit per cron_field: the field's first item was '*' or '?'. This decides DST
    /// "wildness" (second, minute, hour) and Vixie's day-of-month/day-of-week OR.
    std::uint8_t star_fields = 0;
    /// Step of that leading '*' item (1 for a bare '*'), kept so to_string() can
    /// reproduce the field exactly.
    std::array<std::uint8_t, 8> star_steps{};
    std::uint8_t field_count = 5;  // as written: 5, 6 or 7
    bool days_and = false;  // both day fields must match (parse_options)
    std::uint32_t every_seconds = 0;  // @every: fires at multiples of this since the epoch
    fixed_string<63> zone{};  // from a CRON_TZ= or TZ= prefix

    constexpr bool is_star(cron_field f) const noexcept { return (star_fields >> static_cast<unsigned>(f)) & 1u; }
    /// Vixie's rule: a day matches if either day field does when both are restricted
    /// (neither starts with '*' or '?'), unless parse_options asked for both.
    constexpr bool days_either() const noexcept {
        return !days_and && !is_star(cron_field::day_of_month) && !is_star(cron_field::day_of_week);
    }
    constexpr bool has_day_rules() const noexcept {
        return (last_day_offsets | nearest_weekdays | nth_weekdays | last_weekdays) != 0 || last_weekday_of_month;
    }

    friend constexpr bool operator==(const cron_spec&, const cron_spec&) noexcept = default;
};

}  // namespace sked::detail
