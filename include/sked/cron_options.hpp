// sked/cron_options.hpp — the choices a cron expression's text alone cannot settle.
#pragma once

#include <cstdint>
#include <string_view>

namespace sked {

/// How the day-of-month and day-of-week fields combine when both are restricted.
enum class day_match : std::uint8_t {
    either,  ///< Vixie cron: a day matches if either field matches (the default)
    both,  ///< a day matches only if both fields match (croner's legacyMode: false)
};

/// How day-of-week numbers are read. Names (SUN-SAT) mean the same in both.
enum class weekday_numbering : std::uint8_t {
    vixie,  ///< 0-7, 0 and 7 = Sunday, 5 = Friday (the default; cron, croniter, cron-parser)
    quartz,  ///< 1-7, 1 = Sunday, 6 = Friday (Quartz, Spring): Quartz "6#3" = Vixie "5#3"
};

struct parse_options {
    /// The job whose name seeds 'H' fields; 'H' without a name is an error.
    std::string_view job_name{};
    day_match days = day_match::either;
    weekday_numbering weekdays = weekday_numbering::vixie;
};

}  // namespace sked
