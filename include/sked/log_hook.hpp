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
#include <string>
#include <string_view>
#include <utility>

#include "event.hpp"
#include "idempotency.hpp"

namespace sked {

namespace detail {

inline std::string seconds_text(std::chrono::milliseconds d) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3fs", static_cast<double>(d.count()) / 1000.0);
    return text;
}

// skipped_lock is the name sidekiq-cron and friends use for "another worker has it".
inline std::string_view skip_word(skip_reason reason) {
    switch (reason) {
        case skip_reason::held_elsewhere:
            return "skipped_lock";
        case skip_reason::already_done:
            return "skipped_done";
        case skip_reason::overlap:
            return "skipped_overlap";
        case skip_reason::paused:
            return "skipped_paused";
        case skip_reason::misfire:
            return "skipped_misfire";
        case skip_reason::outside_calendar:
            return "skipped_calendar";
        case skip_reason::backend_unavailable:
            return "skipped_backend";
        case skip_reason::none:
            break;
    }
    return "skipped";
}

inline std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += (c == '\n' || c == '\r') ? ' ' : c;
    }
    return out += '"';
}

}  // namespace detail

/// The line for one event.
inline std::string log_line(const event& e) {
    std::string head;
    switch (e.kind) {
        case event_kind::started:
            head = "job started";
            break;
        case event_kind::succeeded:
            head = "job completed in " + detail::seconds_text(e.duration);
            break;
        case event_kind::failed:
            head = "job failed after " + detail::seconds_text(e.duration);
            break;
        case event_kind::retrying:
            head = "job retrying in " + detail::seconds_text(e.duration);
            break;
        case event_kind::timed_out:
            head = "job timed out after " + detail::seconds_text(e.duration);
            break;
        case event_kind::skipped:
            head = std::string(detail::skip_word(e.reason));
            break;
        case event_kind::lease_lost:
            head = "job lease lost";
            break;
        case event_kind::backend_error:
            head = "backend error";
            break;
    }
    std::string line = head;
    line.append(" job=").append(e.job).append(" slot=").append(rfc3339(e.nominal));
    if (e.attempt > 0) line.append(" attempt=").append(std::to_string(e.attempt));
    if (e.fence != 0) line.append(" fence=").append(std::to_string(e.fence));
    if (e.kind == event_kind::started) line.append(" late=").append(detail::seconds_text(e.lateness));
    if (!e.replica.empty()) line.append(" replica=").append(e.replica);
    if (!e.message.empty())
        line.append(e.kind == event_kind::skipped ? " detail=" : " error=").append(detail::quoted(e.message));
    return line;
}

/// A hook that writes log_line(event) to `sink`.
inline event_hook log_lines(std::function<void(std::string_view)> sink) {
    return [sink = std::move(sink)](const event& e) { sink(log_line(e)); };
}

}  // namespace sked
