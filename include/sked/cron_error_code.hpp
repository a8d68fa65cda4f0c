// sked/cron_error_code.hpp — cron_errc as a std::error_code, for code that reports
// errors that way (asio-style). Opt-in: <system_error> is heavier than cron.hpp needs.
//     std::error_code ec = parsed.error().code;       // category "sked.cron"
#pragma once

#include <string>
#include <system_error>
#include <type_traits>

#include "cron_error.hpp"

namespace sked {

/// The category of cron_errc values; its message() is a generic sentence per code
/// (cron_error::message() has the column and token).
inline const std::error_category& cron_category() noexcept {
    struct category final : std::error_category {
        const char* name() const noexcept override { return "sked.cron"; }
        std::string message(int code) const override {
            switch (static_cast<cron_errc>(code)) {
                case cron_errc::empty_expression:
                    return "the cron expression is empty";
                case cron_errc::wrong_field_count:
                    return "a cron expression has 5, 6 or 7 fields";
                case cron_errc::unexpected_character:
                    return "unexpected character in a cron expression";
                case cron_errc::value_out_of_range:
                    return "a cron field value is out of range";
                case cron_errc::reversed_range:
                    return "a cron range starts after it ends";
                case cron_errc::invalid_step:
                    return "a cron step is zero or longer than its field";
                case cron_errc::unknown_name:
                    return "unknown month or weekday name in a cron expression";
                case cron_errc::unknown_macro:
                    return "unknown cron macro";
                case cron_errc::misplaced_special:
                    return "a special character is not allowed in this cron field";
                case cron_errc::hash_needs_job_name:
                    return "'H' in a cron expression needs a job name";
                case cron_errc::never_fires:
                    return "the cron expression can never fire";
                case cron_errc::invalid_duration:
                    return "invalid @every duration";
                case cron_errc::invalid_zone:
                    return "invalid CRON_TZ zone name";
            }
            return "unknown cron error";
        }
    };
    static const category instance;
    return instance;
}

inline std::error_code make_error_code(cron_errc code) noexcept { return {static_cast<int>(code), cron_category()}; }

}  // namespace sked

template <>
struct std::is_error_code_enum<sked::cron_errc> : std::true_type {};
