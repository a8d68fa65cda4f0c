// sked/http/dashboard.hpp — the scheduler as one HTML page (GET /scheduler).
//
// Server-rendered, no script, no external asset: per job its schedule in words, next
// run, last run and its result, counts, lateness, whether it is paused, and an SVG
// timeline of the last hour (with a sked::http::run_history): a tick per run, failures
// and timeouts tall and red or orange, skips as grey dots. The page refreshes itself
// every `refresh_seconds`. Narrow screens get one card per job instead of a table.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <sked/duration.hpp>
#include <sked/job_stats.hpp>
#include <sked/rfc3339.hpp>
#include <sked/schedule_words.hpp>

#include "run_history.hpp"

namespace sked::http {

struct dashboard_options {
    const run_history* history = nullptr;  ///< none: no timelines
    unsigned refresh_seconds = 10;
    std::size_t max_jobs = 500;  ///< more are counted, not shown
};

namespace detail {

inline void append_html(std::string& out, std::string_view text) {
    for (const char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
}

inline std::string_view mark_class(const run_mark& m) {
    switch (m.kind) {
        case event_kind::failed:
            return "failed";
        case event_kind::timed_out:
            return "timed_out";
        case event_kind::skipped:
            return "skipped";
        default:
            return "ok";
    }
}

// The last hour as 360 units, one per 10 s: a tick per mark.
inline void append_timeline(std::string& out, const run_history& history, std::string_view job, instant now) {
    const auto hour = std::chrono::milliseconds{std::chrono::hours{1}};
    const auto since = now - hour;
    out += "<svg class=\"timeline\" viewBox=\"0 0 360 24\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"";
    const auto marks = history.of(job, since);
    out += std::to_string(marks.size()) +
           " runs and skips in the last hour\"><line x1=\"0\" y1=\"23\" x2=\"360\" "
           "y2=\"23\" class=\"axis\"/>";
    for (const auto& m : marks) {
        const auto x = 360.0 * static_cast<double>((m.at - since).count()) / static_cast<double>(hour.count());
        const auto x_text = std::to_string(static_cast<int>(x));
        const auto cls = mark_class(m);
        if (cls == "skipped") {
            out += "<circle cx=\"" + x_text + "\" cy=\"20\" r=\"2\" class=\"skipped\">";
        } else {
            const bool bad = cls != "ok";
            out += "<rect x=\"" + x_text + "\" y=\"" + (bad ? "0" : "8") + "\" width=\"" + (bad ? "3" : "2") +
                   "\" height=\"" + (bad ? "23" : "15") + "\" class=\"" + std::string{cls} + "\">";
        }
        out += "<title>";
        append_html(out, rfc3339_ms(m.at));
        out += ' ';
        out += m.kind == event_kind::skipped ? to_string(m.reason) : to_string(m.kind);
        out += cls == "skipped" ? "</title></circle>" : "</title></rect>";
    }
    out += "</svg>";
}

inline constexpr std::string_view dashboard_style = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
header{padding:12px 20px;background:#1d2733;color:#fff}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#c8d0da}main{padding:12px 20px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{padding:6px 8px;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
th{font-weight:600;color:#56606b;white-space:nowrap}td.num{font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;background:#e3e6ea}
.badge.paused{background:#ffe7a3}.badge.failed,.badge.timed_out{background:#ffd2cc}.badge.succeeded{background:#d4f1d8}
svg.timeline{width:360px;max-width:100%;height:24px;background:#fafbfc}
.axis{stroke:#c8d0da}.ok{fill:#2f9e44}.failed{fill:#e03131}.timed_out{fill:#f08c00}.skipped{fill:#868e96}
.legend span{margin-right:4px}span.ok{color:#2f9e44}span.failed{color:#e03131}span.timed_out{color:#f08c00}span.skipped{color:#868e96}.muted{color:#868e96}
@media (max-width:700px){table,thead,tbody,tr,td{display:block}thead{display:none}
tr{margin:0 0 12px;border:1px solid #e3e6ea;background:#fff}td{border:0;padding:4px 10px}
td::before{content:attr(data-label) ": ";font-weight:600;color:#56606b}svg.timeline{width:100%}}
)";

inline void append_job_row(std::string& out, const job_status& j, const dashboard_options& options, instant now) {
    const auto cell = [&out](std::string_view label, std::string_view cls = {}) {
        out += "<td data-label=\"";
        out += label;
        out += cls.empty() ? "\">" : "\" class=\"" + std::string{cls} + "\">";
    };
    const auto& stats = j.stats;
    out += "<tr>";
    cell("Job");
    append_html(out, j.name);
    if (j.paused) out += " <span class=\"badge paused\">paused</span>";
    if (j.running) out += " <span class=\"badge\">running</span>";
    out += "</td>";
    cell("Schedule");
    append_html(out, schedule_in_words(j.schedule));
    out += "</td>";
    cell("Next run");
    out += j.next_run ? rfc3339_ms(*j.next_run) : std::string{"<span class=\"muted\">none</span>"};
    out += "</td>";
    cell("Last run");
    if (stats.last_start) {
        out += rfc3339_ms(*stats.last_start);
        if (stats.last_result) {
            const auto result = to_string(*stats.last_result);
            out += " <span class=\"badge " + std::string{result} + "\">" + std::string{result} + "</span>";
        }
    } else {
        out += "<span class=\"muted\">never</span>";
    }
    out += "</td>";
    cell("Runs", "num");
    const auto& c = stats.counts;
    out += std::to_string(c.succeeded) + " ok, " + std::to_string(c.failed) + " failed, " +
           std::to_string(c.timed_out) + " timed out, ";
    std::uint64_t skipped = 0;
    for (const auto n : c.skips)
        skipped += n;
    out += std::to_string(skipped) + " skipped</td>";
    cell("Lateness", "num");
    out += format_duration(stats.last_lateness) + " (max " + format_duration(stats.max_lateness) + ")</td>";
    cell("Last hour");
    if (options.history) append_timeline(out, *options.history, j.name, now);
    out += "</td></tr>";
}

}  // namespace detail

/// The page for `status`.
[[nodiscard]] inline std::string render_dashboard(const scheduler_status& status,
                                                  const dashboard_options& options = {}) {
    using namespace detail;
    std::string out =
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
    out += "<meta http-equiv=\"refresh\" content=\"" + std::to_string(options.refresh_seconds) + "\"><title>sked";
    if (!status.replica.empty()) {
        out += " \xE2\x80\x94 ";
        append_html(out, status.replica);
    }
    out += "</title><style>";
    out += dashboard_style;
    out += "</style></head><body><header><h1>sked</h1><p>";
    if (!status.replica.empty()) {
        out += "replica ";
        append_html(out, status.replica);
        out += " \xC2\xB7 ";
    }
    out += status.running ? "dispatching" : "stopped";
    out += status.backend.reachable ? " \xC2\xB7 backend reachable" : " \xC2\xB7 backend unreachable";
    out += " \xC2\xB7 " + std::to_string(status.jobs.size()) + " jobs \xC2\xB7 " + rfc3339_ms(status.now) +
           "</p></header><main><table><thead><tr><th>Job</th><th>Schedule</th><th>Next run</th><th>Last run</th>"
           "<th>Runs</th><th>Lateness</th><th>Last hour</th></tr></thead><tbody>";
    std::size_t shown = 0;
    for (const auto& j : status.jobs) {
        if (shown++ == options.max_jobs) break;
        append_job_row(out, j, options, status.now);
    }
    out += "</tbody></table>";
    if (status.jobs.size() > options.max_jobs)
        out += "<p class=\"muted\">and " + std::to_string(status.jobs.size() - options.max_jobs) + " more jobs</p>";
    out +=
        "<p class=\"legend\"><span class=\"ok\">&#9646;</span>succeeded <span class=\"failed\">&#9646;</span>failed "
        "<span class=\"timed_out\">&#9646;</span>timed out <span class=\"skipped\">&#9679;</span>skipped "
        "<span class=\"muted\">(times UTC; the timeline is the last hour)</span></p></main></body></html>\n";
    return out;
}

}  // namespace sked::http
