// sked/cron_error.hpp — what went wrong in a cron expression, and where.
//
// Every parse error carries a fixed code (stable across releases, so programs can
// branch on it), the field and the 1-based column where the problem starts, and the
// offending token, so the message can quote it:
//     column 11 (day-of-month): 32 is out of range 1-31
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

#include "detail/fixed_string.hpp"

namespace sked {

enum class cron_field : std::uint8_t { none, second, minute, hour, day_of_month, month, day_of_week, year };

namespace detail {
inline constexpr std::string_view cron_field_names[] = {"expression",   "second", "minute",      "hour",
                                                        "day-of-month", "month",  "day-of-week", "year"};
static_assert(std::size(cron_field_names) == static_cast<std::size_t>(cron_field::year) + 1,
              "sked::cron_field: one name per enumerator, in order");
}  // namespace detail

/// The name used in messages and docs, e.g. "day-of-month".
constexpr std::string_view to_string(cron_field field) noexcept {
    return detail::cron_field_names[static_cast<unsigned>(field)];
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
    invalid_zone,  ///< CRON_TZ= / TZ= with an empty or overlong zone name (keep last)
};

namespace detail {
// Index 0 is no error: the codes start at 1, as std::error_code wants.
inline constexpr std::string_view cron_errc_names[] = {"ok",
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
static_assert(std::size(cron_errc_names) == static_cast<std::size_t>(cron_errc::invalid_zone) + 1,
              "sked::cron_errc: one name per enumerator, in order");
}  // namespace detail

/// A short identifier of the code, e.g. "value_out_of_range".
constexpr std::string_view to_string(cron_errc code) noexcept {
    return detail::cron_errc_names[static_cast<unsigned>(code)];
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

namespace detail {

// The sentence of each code, by cron_errc; $t is the token, $l, $h and $v the numbers.
inline constexpr std::string_view cron_error_sentences[] = {
    "",
    "the expression is empty",
    "found $v fields; expected 5 (minute hour day-of-month month day-of-week), 6 (seconds first) or 7 (year last)",
    "unexpected '$t'",
    "$t is out of range $l-$h",
    "range $t starts after it ends; write it as two ranges joined by ','",
    "step $t must be between 1 and $h",
    "'$t' is not a number",
    "'$t' is not a macro; use @yearly @annually @monthly @weekly @daily @midnight @hourly or @every <duration>",
    "'$t' is not allowed in this field",
    "'$t' needs a job name to hash (parse_options::job_name)",
    "the expression can never fire: no day matches its day-of-month, month, day-of-week and year fields together",
    "'$t' is not a positive duration like 90s, 5m or 1h30m",
    "zone name '$t' must be 1-63 characters of A-Z a-z 0-9 _ + - /"};
static_assert(std::size(cron_error_sentences) == std::size(cron_errc_names), "one sentence per sked::cron_errc");

constexpr std::string_view sentence_of(const cron_error& e) noexcept {
    if (e.code == cron_errc::unexpected_character && e.token.empty()) return "the field ends too early";
    if (e.code == cron_errc::unknown_name && e.field == cron_field::month) return "'$t' is not a month name (JAN-DEC)";
    if (e.code == cron_errc::unknown_name && e.field == cron_field::day_of_week)
        return "'$t' is not a weekday name (SUN-SAT)";
    return cron_error_sentences[static_cast<unsigned>(e.code)];
}

}  // namespace detail

constexpr detail::fixed_string<200> cron_error::message() const noexcept {
    detail::fixed_string<200> text;
    if (column != 0) {
        text.append("column ");
        text.append_number(column);
        text.append(" (");
        text.append(to_string(field));
        text.append("): ");
    }
    const std::string_view sentence = detail::sentence_of(*this);
    for (std::size_t i = 0; i < sentence.size(); ++i) {
        const char next = i + 1 < sentence.size() ? sentence[i + 1] : '\0';
        if (sentence[i] != '$' || (next != 't' && next != 'l' && next != 'h' && next != 'v')) {
            text.append(sentence.substr(i, 1));
            continue;
        }
        ++i;
        if (next == 't') text.append(token.view());
        if (next == 'l') text.append_number(low);
        if (next == 'h') text.append_number(high);
        if (next == 'v') text.append_number(value);
    }
    return text;
}

}  // namespace sked
