// sked/cron.hpp — the cron expression value type.
//
//     auto daily = sked::cron::parse("0 0 * * *");          // result<cron, cron_error>
//     if (!daily) std::puts(daily.error().message().c_str());
//     std::optional<std::chrono::sys_seconds> t = daily->next(now);
//
//     using namespace sked::literals;
//     constexpr sked::cron hourly = "0 * * * *"_cron;      // checked at compile time
//
// A cron is a small trivially copyable value. parse(), next() and prev() allocate
// nothing and are constexpr. Times are UTC (sys_seconds), or a calendar without a zone
// (local_seconds); sked/zoned.hpp applies a time zone and its DST rule.
// The dialect is documented in docs/cron.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cron_error.hpp"
#include "cron_options.hpp"
#include "detail/cron_format.hpp"
#include "detail/cron_parser.hpp"
#include "detail/cron_search.hpp"
#include "detail/cron_spec.hpp"
#include "result.hpp"

namespace sked {

class cron;

namespace detail {
consteval void reject_cron_literal(const cron_error& error);
}

namespace literals {
/// `"0 0 * * *"_cron`: a cron value checked at compile time.
consteval cron operator""_cron(const char* text, std::size_t size);
}  // namespace literals

class cron {
public:
    /// Parses `text`; on failure the error names the column, field and reason.
    static constexpr result<cron, cron_error> parse(std::string_view text, const parse_options& options = {}) noexcept;

    /// A literal checked at compile time: a malformed one does not compile, and the
    /// diagnostic names the problem (e.g. `value_out_of_range`). Use parse() for text
    /// known only at run time.
    template <std::size_t N>
    consteval cron(const char (&text)[N]) : cron(checked(std::string_view(text, N - 1))) {}

    /// First occurrence strictly after `from`, in UTC; nullopt when none is left (a
    /// year field in the past).
    [[nodiscard]] constexpr std::optional<std::chrono::sys_seconds> next(std::chrono::sys_seconds from) const noexcept;
    /// Last occurrence strictly before `from`, in UTC.
    [[nodiscard]] constexpr std::optional<std::chrono::sys_seconds> prev(std::chrono::sys_seconds from) const noexcept;
    /// The same on a zone-less calendar: matches wall-clock fields, ignores DST.
    [[nodiscard]] constexpr std::optional<std::chrono::local_seconds> next(
        std::chrono::local_seconds from) const noexcept;
    [[nodiscard]] constexpr std::optional<std::chrono::local_seconds> prev(
        std::chrono::local_seconds from) const noexcept;

    /// Whether the second, minute or hour field starts with '*' (cronie's DST rule:
    /// wild jobs follow real time through DST changes; see sked/zoned.hpp).
    [[nodiscard]] constexpr bool is_wild() const noexcept;
    /// For `@every <duration>`: the period; it fires at every multiple of it since
    /// 1970-01-01T00:00:00Z, in every zone. Zero for calendar expressions.
    [[nodiscard]] constexpr std::chrono::seconds every() const noexcept {
        return std::chrono::seconds{spec_.every_seconds};
    }
    /// The zone named by a `CRON_TZ=` or `TZ=` prefix, or empty.
    [[nodiscard]] constexpr std::string_view zone_name() const noexcept { return spec_.zone.view(); }

    /// Canonical text: equal values print equally, and the text parses back (with the
    /// same parse_options::days) to an equal value. 'H' prints as the chosen numbers.
    [[nodiscard]] std::string to_string() const { return detail::format(spec_); }

    friend constexpr bool operator==(const cron&, const cron&) noexcept = default;

private:
    friend consteval cron literals::operator""_cron(const char*, std::size_t);
    friend std::string explain(const cron& expr);  // sked/cron_explain.hpp

    constexpr explicit cron(const detail::cron_spec& spec) noexcept : spec_(spec) {}
    static consteval cron checked(std::string_view text);

    detail::cron_spec spec_;
};

// ---------------------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------------------

constexpr result<cron, cron_error> cron::parse(std::string_view text, const parse_options& options) noexcept {
    const auto spec = detail::cron_parser(text, options).parse();
    if (!spec) return spec.error();
    return cron(*spec);
}

namespace detail {
template <class TimePoint>
constexpr std::optional<TimePoint> to_time_point(std::optional<std::int64_t> seconds) noexcept {
    if (!seconds) return std::nullopt;
    return TimePoint{std::chrono::seconds{*seconds}};
}
}  // namespace detail

constexpr std::optional<std::chrono::sys_seconds> cron::next(std::chrono::sys_seconds from) const noexcept {
    return detail::to_time_point<std::chrono::sys_seconds>(detail::next_match(spec_, from.time_since_epoch().count()));
}

constexpr std::optional<std::chrono::sys_seconds> cron::prev(std::chrono::sys_seconds from) const noexcept {
    return detail::to_time_point<std::chrono::sys_seconds>(detail::prev_match(spec_, from.time_since_epoch().count()));
}

constexpr std::optional<std::chrono::local_seconds> cron::next(std::chrono::local_seconds from) const noexcept {
    return detail::to_time_point<std::chrono::local_seconds>(
        detail::next_match(spec_, from.time_since_epoch().count()));
}

constexpr std::optional<std::chrono::local_seconds> cron::prev(std::chrono::local_seconds from) const noexcept {
    return detail::to_time_point<std::chrono::local_seconds>(
        detail::prev_match(spec_, from.time_since_epoch().count()));
}

constexpr bool cron::is_wild() const noexcept {
    return spec_.every_seconds != 0 || spec_.is_star(cron_field::second) || spec_.is_star(cron_field::minute) ||
           spec_.is_star(cron_field::hour);
}

consteval cron cron::checked(std::string_view text) {
    const auto parsed = parse(text);
    if (!parsed) detail::reject_cron_literal(parsed.error());
    return *parsed;
}

namespace literals {
consteval cron operator""_cron(const char* text, std::size_t size) {
    return cron::checked(std::string_view(text, size));
}
}  // namespace literals

namespace detail {

// Not constexpr on purpose: a cron literal that fails to parse calls the function named
// after its error, and the compiler reports that call ("call to non-constexpr function
// 'sked::detail::cron_literal_error::value_out_of_range()'").
namespace cron_literal_error {
inline void empty_expression() {}
inline void wrong_field_count() {}
inline void unexpected_character() {}
inline void value_out_of_range() {}
inline void reversed_range() {}
inline void invalid_step() {}
inline void unknown_name() {}
inline void unknown_macro() {}
inline void misplaced_special() {}
inline void hash_needs_job_name() {}
inline void never_fires() {}
inline void invalid_duration() {}
inline void invalid_zone() {}
}  // namespace cron_literal_error

consteval void reject_cron_literal(const cron_error& error) {
    switch (error.code) {
        case cron_errc::empty_expression:
            cron_literal_error::empty_expression();
            break;
        case cron_errc::wrong_field_count:
            cron_literal_error::wrong_field_count();
            break;
        case cron_errc::unexpected_character:
            cron_literal_error::unexpected_character();
            break;
        case cron_errc::value_out_of_range:
            cron_literal_error::value_out_of_range();
            break;
        case cron_errc::reversed_range:
            cron_literal_error::reversed_range();
            break;
        case cron_errc::invalid_step:
            cron_literal_error::invalid_step();
            break;
        case cron_errc::unknown_name:
            cron_literal_error::unknown_name();
            break;
        case cron_errc::unknown_macro:
            cron_literal_error::unknown_macro();
            break;
        case cron_errc::misplaced_special:
            cron_literal_error::misplaced_special();
            break;
        case cron_errc::hash_needs_job_name:
            cron_literal_error::hash_needs_job_name();
            break;
        case cron_errc::never_fires:
            cron_literal_error::never_fires();
            break;
        case cron_errc::invalid_duration:
            cron_literal_error::invalid_duration();
            break;
        case cron_errc::invalid_zone:
            cron_literal_error::invalid_zone();
            break;
    }
}

}  // namespace detail
}  // namespace sked
