// sked/log_hook.hpp — events as the one-line log messages operators grep for.
//
//     sked::scheduler s{{.hooks = {sked::log_lines([](std::string_view line) { std::puts(line.data()); })}}};
//
//     job started job=daily_reward slot=2026-11-23T00:00:00Z attempt=1 fence=1763856000000000 late=0.012s
//     job completed in 1.204s job=daily_reward slot=2026-11-23T00:00:00Z attempt=1
//     skipped_lock job=daily_reward slot=2026-11-23T00:00:00Z
//
// No logging library: the sink gets a string (NUL-terminated) and writes it where the
// service's logs go.
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

#include "event.hpp"
#include "rfc3339.hpp"

namespace sked {

namespace detail {

inline std::string seconds_text(std::chrono::milliseconds d) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3fs", static_cast<double>(d.count()) / 1000.0);
    return text;
}

// The first words of each event's line, by event_kind; the duration follows where asked.
struct line_head {
    std::string_view words;
    bool duration_follows;
};
inline constexpr line_head line_heads[] = {{"job started", false},
                                           {"job completed in ", true},
                                           {"job failed after ", true},
                                           {"job retrying in ", true},
                                           {"job timed out after ", true},
                                           {"skipped", false},
                                           {"job lease lost", false},
                                           {"backend error", false},
                                           {"backend recovered after ", true},
                                           {"", false}};  // switched: the message is the line's head
static_assert(std::size(line_heads) == event_kind_count, "sked::log_line: one line head per event_kind");

// A skip's line begins with its reason, by skip_reason. skipped_lock is the name
// sidekiq-cron and friends use for "another worker has it".
inline constexpr std::string_view skip_words[] = {"skipped",          "skipped_lock",   "skipped_done",
                                                  "skipped_overlap",  "skipped_paused", "skipped_misfire",
                                                  "skipped_calendar", "skipped_backend"};
static_assert(std::size(skip_words) == skip_reason_count, "sked::log_line: one word per skip_reason");

inline std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += (c == '\n' || c == '\r') ? ' ' : c;
    }
    return out += '"';
}

// "job paused job=daily_reward replica=web-1", "stagger off replica=web-1" (every job):
// a switch has no slot, attempt or fence.
inline std::string switch_line(const event& e) {
    std::string line{e.message};
    if (!e.job.empty()) line.append(" job=").append(e.job);
    if (e.job.empty() && e.message.starts_with("stagger")) line.append(" jobs=all");
    if (!e.replica.empty()) line.append(" replica=").append(e.replica);
    return line;
}

}  // namespace detail

/// The line for one event.
inline std::string log_line(const event& e) {
    if (e.kind == event_kind::switched) return detail::switch_line(e);
    const auto& head = detail::line_heads[static_cast<unsigned>(e.kind)];
    std::string line{e.kind == event_kind::skipped ? detail::skip_words[static_cast<unsigned>(e.reason)] : head.words};
    if (head.duration_follows) line.append(detail::seconds_text(e.duration));
    // An event of the whole scheduler (the backend's clock or identity) has no job or slot.
    if (!e.job.empty()) line.append(" job=").append(e.job).append(" slot=").append(rfc3339(e.nominal));
    if (!e.key.empty()) line.append(" key=").append(detail::quoted(e.key));
    if (e.attempt > 0) line.append(" attempt=").append(std::to_string(e.attempt));
    if (e.fence != 0) line.append(" fence=").append(std::to_string(e.fence));
    if (e.kind == event_kind::started) line.append(" late=").append(detail::seconds_text(e.lateness));
    if (!e.replica.empty()) line.append(" replica=").append(e.replica);
    // What went wrong is an error=; why a slot was skipped, or how an outage ended, a detail=.
    const bool informs = e.kind == event_kind::skipped || e.kind == event_kind::backend_recovered;
    if (!e.message.empty()) line.append(informs ? " detail=" : " error=").append(detail::quoted(e.message));
    return line;
}

/// A hook that writes log_line(event) to `sink`.
inline event_hook log_lines(std::function<void(std::string_view)> sink) {
    return [sink = std::move(sink)](const event& e) { sink(log_line(e)); };
}

}  // namespace sked
