// sked/cron_error.hpp — what went wrong in a cron expression, and where.
//
// Every parse error carries a fixed code (stable across releases, so programs can
// branch on it), the field and the 1-based column where the problem starts, and the
// offending token, so the message can quote it:
//     column 11 (day-of-month): 32 is out of range 1-31
#pragma once

#include <cstdint>
#include <string_view>

#include "detail/fixed_string.hpp"

namespace sked {

enum class cron_field : std::uint8_t { none, second, minute, hour, day_of_month, month, day_of_week, year };

/// The name used in messages and docs, e.g. "day-of-month".
constexpr std::string_view to_string(cron_field field) noexcept {
    constexpr std::string_view names[] = {"expression",   "second", "minute",      "hour",
                                          "day-of-month", "month",  "day-of-week", "year"};
    return names[static_cast<unsigned>(field)];
}

enum class cron_errc : std::uint8_t {
    empty_expression = 1,  ///< nothing but white space
    wrong_field_count,  ///< not 5, 6 or 7 fields
    unexpected_character,  ///< a character that starts no valid token here
    value_out_of_range,  ///< a number outside the field's range
    reversed_range,  ///< a-b with a > b
    invalid_step,  ///< /0, or a step longer than the field
    unknown_name,  ///< a name that is no month or weekday
    unknown_macro,  ///< @something that is not a macro
    misplaced_special,  ///< ?, L, W, #, H where the field does not allow it
    hash_needs_job_name,  ///< H without parse_options::job_name
    never_fires,  ///< valid syntax, but no instant ever matches
    invalid_duration,  ///< @every with a malformed or zero duration
    invalid_zone,  ///< CRON_TZ= / TZ= with an empty or overlong zone name
};

/// A short identifier of the code, e.g. "value_out_of_range".
constexpr std::string_view to_string(cron_errc code) noexcept {
    constexpr std::string_view names[] = {"ok",
                                          "empty_expression",
                                          "wrong_field_count",
                                          "unexpected_character",
                                          "value_out_of_range",
                                          "reversed_range",
                                          "invalid_step",
                                          "unknown_name",
                                          "unknown_macro",
                                          "misplaced_special",
                                          "hash_needs_job_name",
                                          "never_fires",
                                          "invalid_duration",
                                          "invalid_zone"};
    return names[static_cast<unsigned>(code)];
}

/// A parse error. `column` is 1-based and counts bytes of the whole input (0 when the
/// error concerns the expression as a whole); `token` is the offending text, cut at 40
/// characters. `low`/`high`/`value` give the numbers a message needs (meaning per code).
struct cron_error {
    cron_errc code{};
    cron_field field = cron_field::none;
    std::uint16_t column = 0;
    detail::fixed_string<40> token{};
    std::int32_t value = 0;
    std::int32_t low = 0;
    std::int32_t high = 0;

    /// A readable sentence naming the column, the field and the problem.
    [[nodiscard]] constexpr detail::fixed_string<200> message() const noexcept;

    friend constexpr bool operator==(const cron_error&, const cron_error&) noexcept = default;
};

// ---------------------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------------------

constexpr detail::fixed_string<200> cron_error::message() const noexcept {
    detail::fixed_string<200> text;
    if (column != 0) {
        text.append("column ");
        text.append_number(column);
        text.append(" (");
        text.append(to_string(field));
        text.append("): ");
    }
    const auto range = [&] {
        text.append_number(low);
        text.append("-");
        text.append_number(high);
    };
    switch (code) {
        case cron_errc::empty_expression:
            text.append("the expression is empty");
            break;
        case cron_errc::wrong_field_count:
            text.append("found ");
            text.append_number(value);
            text.append(
                " fields; expected 5 (minute hour day-of-month month day-of-week), "
                "6 (seconds first) or 7 (year last)");
            break;
        case cron_errc::unexpected_character:
            if (token.empty()) {
                text.append("the field ends too early");
                break;
            }
            text.append("unexpected '");
            text.append(token);
            text.append("'");
            break;
        case cron_errc::value_out_of_range:
            text.append(token);
            text.append(" is out of range ");
            range();
            break;
        case cron_errc::reversed_range:
            text.append("range ");
            text.append(token);
            text.append(" starts after it ends; write it as two ranges joined by ','");
            break;
        case cron_errc::invalid_step:
            text.append("step ");
            text.append(token);
            text.append(" must be between 1 and ");
            text.append_number(high);
            break;
        case cron_errc::unknown_name:
            text.append("'");
            text.append(token);
            text.append(field == cron_field::month         ? "' is not a month name (JAN-DEC)"
                        : field == cron_field::day_of_week ? "' is not a weekday name (SUN-SAT)"
                                                           : "' is not a number");
            break;
        case cron_errc::unknown_macro:
            text.append("'");
            text.append(token);
            text.append(
                "' is not a macro; use @yearly @annually @monthly @weekly @daily "
                "@midnight @hourly or @every <duration>");
            break;
        case cron_errc::misplaced_special:
            text.append("'");
            text.append(token);
            text.append("' is not allowed in this field");
            break;
        case cron_errc::hash_needs_job_name:
            text.append("'");
            text.append(token);
            text.append("' needs a job name to hash (parse_options::job_name)");
            break;
        case cron_errc::never_fires:
            text.append(
                "the expression can never fire: no day matches its day-of-month, "
                "month, day-of-week and year fields together");
            break;
        case cron_errc::invalid_duration:
            text.append("'");
            text.append(token);
            text.append("' is not a positive duration like 90s, 5m or 1h30m");
            break;
        case cron_errc::invalid_zone:
            text.append("zone name '");
            text.append(token);
            text.append("' must be 1-63 characters of A-Z a-z 0-9 _ + - /");
            break;
    }
    return text;
}

}  // namespace sked
