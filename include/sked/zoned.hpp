// sked/zoned.hpp — cron occurrences in a time zone, with cronie's DST rule.
//
//     sked::next(expr, now, zone)     first occurrence strictly after now (UTC)
//     sked::prev(expr, now, zone)     last occurrence strictly before now (UTC)
//     sked::occurrences(expr, from, zone)   lazy range of successive occurrences
//
// The rule (docs/cron.md, "Time zones and DST"): a *wild* expression (second, minute or
// hour field starting with '*') follows real time: a local time skipped by a
// spring-forward gap never happens, one repeated by a fall-back overlap happens twice.
// Any other expression fires once per matching local time: in a gap, at the first
// instant after the gap; in an overlap, at the first occurrence only.
//
// How: within one zone_segment the offset is constant, so local = UTC + offset and the
// zone-less calendar search of cron applies directly. The search walks segment by
// segment and applies the rule only where a candidate meets a segment's edge.
#pragma once

#include <chrono>
#include <cstddef>
#include <iterator>
#include <optional>

#include "cron.hpp"
#include "zone.hpp"

namespace sked {

/// First occurrence of `expr` strictly after `from`, evaluated in `zone`.
template <time_zone Zone>
constexpr std::optional<std::chrono::sys_seconds> next(const cron& expr, std::chrono::sys_seconds from,
                                                       const Zone& zone);

/// Last occurrence of `expr` strictly before `from`, evaluated in `zone`.
template <time_zone Zone>
constexpr std::optional<std::chrono::sys_seconds> prev(const cron& expr, std::chrono::sys_seconds from,
                                                       const Zone& zone);

/// A lazy, endless (until the expression runs out) input range of the occurrences of
/// `expr` after `from` in `zone`. Holds copies of both.
template <time_zone Zone = utc_zone>
class occurrence_range;

template <time_zone Zone = utc_zone>
constexpr occurrence_range<Zone> occurrences(const cron& expr, std::chrono::sys_seconds from, const Zone& zone = {}) {
    return occurrence_range<Zone>(expr, from, zone);
}

// ---------------------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------------------

namespace detail {

using std::chrono::local_seconds;
using std::chrono::seconds;
using std::chrono::sys_seconds;

constexpr local_seconds to_local(sys_seconds t, seconds offset) noexcept {
    return local_seconds{t.time_since_epoch() + offset};
}
constexpr sys_seconds to_sys(local_seconds t, seconds offset) noexcept {
    return sys_seconds{t.time_since_epoch() - offset};
}

// Transitions are never closer than a day apart in practice; beyond that distance from
// a segment's start no candidate can be a repeated local time, so the previous
// segment need not be looked up (keeps the common path to one lookup).
inline constexpr seconds overlap_horizon{86'400};

// One step per segment crossed; a 400-year search crosses at most ~800 DST changes.
inline constexpr int max_segments_searched = 4'096;

// No zone's offset has ever moved by two days (Samoa's 2011 jump was 24 hours). So
// between two instants more than this far from both the start and the candidate,
// every wall time lies strictly between them, and nothing can fire there: the search
// may jump over whole segments instead of visiting each (sparse schedules).
inline constexpr seconds jump_margin{3 * 86'400};

}  // namespace detail

template <time_zone Zone>
constexpr std::optional<std::chrono::sys_seconds> next(const cron& expr, std::chrono::sys_seconds from,
                                                       const Zone& zone) {
    using namespace std::chrono;
    if (expr.every() != seconds{0}) return expr.next(from);
    const bool wild = expr.is_wild();
    sys_seconds t = from;  // answer is strictly after t
    zone_segment here = zone.segment(t + seconds{1});
    for (int step = 0; step < detail::max_segments_searched; ++step) {
        const auto candidate = expr.next(detail::to_local(t, here.offset));
        const sys_seconds at = candidate ? detail::to_sys(*candidate, here.offset) : zone_far_future;
        if (at < here.end) {
            if (!wild && at - here.begin < detail::overlap_horizon) {
                const zone_segment before = zone.segment(here.begin - seconds{1});
                const auto repeat_end = detail::to_local(here.begin, before.offset);
                if (before.offset > here.offset && *candidate < repeat_end) {
                    t = detail::to_sys(repeat_end, here.offset) - seconds{1};  // skip the repeated hour
                    here = zone.segment(t + seconds{1});
                    continue;
                }
            }
            return at;
        }
        if (here.end >= zone_far_future) return std::nullopt;
        const zone_segment after = zone.segment(here.end);
        if (!wild && candidate && after.offset > here.offset && *candidate < detail::to_local(here.end, after.offset))
            return here.end;  // the local time lies in the gap: run when the gap ends
        if (candidate && here.end - t > detail::jump_margin && at - here.end > detail::jump_margin) {
            t = at - detail::jump_margin;
            here = zone.segment(t + seconds{1});
            continue;
        }
        t = here.end - seconds{1};
        here = after;
    }
    return std::nullopt;
}

template <time_zone Zone>
constexpr std::optional<std::chrono::sys_seconds> prev(const cron& expr, std::chrono::sys_seconds from,
                                                       const Zone& zone) {
    using namespace std::chrono;
    if (expr.every() != seconds{0}) return expr.prev(from);
    const bool wild = expr.is_wild();
    sys_seconds t = from;  // answer is strictly before t
    zone_segment here = zone.segment(t - seconds{1});
    for (int step = 0; step < detail::max_segments_searched; ++step) {
        const auto candidate = expr.prev(detail::to_local(t, here.offset));
        const sys_seconds at = candidate ? detail::to_sys(*candidate, here.offset) : zone_far_past;
        if (at >= here.begin && candidate) {
            if (!wild && at - here.begin < detail::overlap_horizon) {
                const zone_segment before = zone.segment(here.begin - seconds{1});
                if (before.offset > here.offset && *candidate < detail::to_local(here.begin, before.offset)) {
                    t = here.begin;  // a repeat: its first occurrence lies in the segment before
                    here = before;
                    continue;
                }
            }
            return at;
        }
        if (here.begin <= zone_far_past) return std::nullopt;
        const zone_segment before = zone.segment(here.begin - seconds{1});
        if (!wild && candidate && before.offset < here.offset &&
            *candidate >= detail::to_local(here.begin, before.offset))
            return here.begin;  // the local time lies in the gap: it ran when the gap ended
        if (candidate && t - here.begin > detail::jump_margin && here.begin - at > detail::jump_margin) {
            t = at + detail::jump_margin;
            here = zone.segment(t - seconds{1});
            continue;
        }
        t = here.begin;
        here = before;
    }
    return std::nullopt;
}

template <time_zone Zone>
class occurrence_range {
public:
    constexpr occurrence_range(const cron& expr, std::chrono::sys_seconds from, const Zone& zone)
        : expr_(expr), from_(from), zone_(zone) {}

    struct sentinel {};

    class iterator {
    public:
        using value_type = std::chrono::sys_seconds;
        using difference_type = std::ptrdiff_t;

        constexpr iterator() = default;
        constexpr const value_type& operator*() const noexcept { return *current_; }
        constexpr iterator& operator++() {
            current_ = sked::next(range_->expr_, *current_, range_->zone_);
            return *this;
        }
        constexpr void operator++(int) { ++*this; }
        friend constexpr bool operator==(const iterator& it, sentinel) noexcept { return !it.current_; }

    private:
        friend class occurrence_range;
        constexpr explicit iterator(const occurrence_range* range)
            : range_(range), current_(sked::next(range->expr_, range->from_, range->zone_)) {}

        const occurrence_range* range_ = nullptr;
        std::optional<std::chrono::sys_seconds> current_;
    };

    constexpr iterator begin() const { return iterator(this); }
    constexpr sentinel end() const noexcept { return {}; }

private:
    cron expr_;
    std::chrono::sys_seconds from_;
    Zone zone_;
};

}  // namespace sked
