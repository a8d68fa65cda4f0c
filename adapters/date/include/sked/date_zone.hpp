// sked/date_zone.hpp — IANA time zones through Howard Hinnant's date library.
//
// For standard libraries without std::chrono::tzdb (libstdc++ before 13, libc++ before
// 17). Link the CMake target sked::date, which brings date::date-tz (Debian:
// libhowardhinnant-date-dev, reading the system's /usr/share/zoneinfo).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <date/tz.h>

#include <sked/zone.hpp>

namespace sked {

/// An IANA zone ("Asia/Manila") as a sked::time_zone.
class date_zone {
public:
    /// The zone called `name`, or nullopt when the database has no such zone.
    static std::optional<date_zone> locate(std::string_view name) {
        try {
            return date_zone(date::locate_zone(std::string(name)));
        } catch (const std::exception&) {  // date reports an unknown name by throwing
            return std::nullopt;
        }
    }

    explicit date_zone(const date::time_zone* zone) noexcept : zone_(zone) {}

    zone_segment segment(std::chrono::sys_seconds t) const {
        const date::sys_info info = zone_->get_info(t);
        return {info.offset, clamp(info.begin), clamp(info.end)};
    }

    std::string_view name() const { return zone_->name(); }

private:
    // date marks the first and last spans with its own extreme instants; sked's search
    // adds offsets to these, so they are pulled into sked's safe range.
    static std::chrono::sys_seconds clamp(std::chrono::sys_seconds t) noexcept {
        return t < zone_far_past ? zone_far_past : t > zone_far_future ? zone_far_future : t;
    }

    const date::time_zone* zone_;
};

static_assert(time_zone<date_zone>);

}  // namespace sked
