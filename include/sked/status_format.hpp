// sked/status_format.hpp — a scheduler_status as Prometheus text or JSON.
//
//     serve("/metrics", sked::to_prometheus(s.status()));          // text/plain; version=0.0.4
//     serve("/scheduler/status", sked::to_json(s.status()));       // application/json
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

#include "event.hpp"
#include "job_stats.hpp"
#include "json.hpp"
#include "rfc3339.hpp"

namespace sked {

namespace detail {

inline std::string number_text(double v) {
    char text[40];
    std::snprintf(text, sizeof text, "%.17g", v);
    return text;
}

inline double epoch_seconds(instant t) { return static_cast<double>(t.time_since_epoch().count()) / 1000.0; }

// Prometheus label values escape backslash, double quote and newline.
inline std::string label_value(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

class prometheus_writer {
public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        text_.append("# HELP ").append(name).append(" ").append(help).append("\n");
        text_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
    }
    void sample(std::string_view name, std::string_view job, std::string_view extra_label, std::string_view extra,
                double value, std::string_view first_label = "job") {
        text_.append(name).append("{").append(first_label).append("=\"").append(label_value(job)).append("\"");
        if (!extra_label.empty()) text_.append(",").append(extra_label).append("=\"").append(extra).append("\"");
        text_.append("} ").append(number_text(value)).append("\n");
    }
    std::string take() { return std::move(text_); }
    std::string& text() { return text_; }

private:
    std::string text_;
};

}  // namespace detail

namespace detail {
// One-off kinds, labelled by kind: the queue as the last take saw it, and the runs here.
inline void one_off_metrics(prometheus_writer& w, const std::vector<one_off_kind_status>& kinds) {
    const auto each = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
        w.family(name, type, help);
        for (const auto& k : kinds)
            w.sample(name, k.kind, {}, {}, static_cast<double>(value(k)), "kind");
    };
    each("sked_one_off_pending", "gauge", "One-off jobs waiting to come due, in the backend (at the last take)",
         [](auto& k) { return k.queue.pending; });
    each("sked_one_off_in_flight", "gauge", "One-off jobs taken by some replica (at the last take)",
         [](auto& k) { return k.queue.in_flight; });
    each("sked_one_off_running", "gauge", "One-off jobs running on this replica", [](auto& k) { return k.running; });
    w.family("sked_one_off_next_due_timestamp_seconds", "gauge", "When the earliest pending one-off job is due");
    for (const auto& k : kinds)
        if (k.queue.next_due)
            w.sample("sked_one_off_next_due_timestamp_seconds", k.kind, {}, {}, epoch_seconds(*k.queue.next_due),
                     "kind");
    w.family("sked_one_off_runs_total", "counter", "Finished one-off attempts here, by outcome");
    for (const auto& k : kinds) {
        w.sample("sked_one_off_runs_total", k.kind, "outcome", "succeeded", static_cast<double>(k.succeeded), "kind");
        w.sample("sked_one_off_runs_total", k.kind, "outcome", "failed", static_cast<double>(k.failed), "kind");
        w.sample("sked_one_off_runs_total", k.kind, "outcome", "retried", static_cast<double>(k.retried), "kind");
    }
    each("sked_one_off_lost_total", "counter",
         "One-off runs whose end the backend refused (cancelled, or taken again after the lease ran out)",
         [](auto& k) { return k.lost; });
}
}  // namespace detail

/// Prometheus text exposition format (version 0.0.4): sked_up, then per job counters
/// by outcome and skip reason, a duration histogram, next and last run times.
inline std::string to_prometheus(const scheduler_status& status) {
    detail::prometheus_writer w;
    w.family("sked_up", "gauge", "1 while the scheduler dispatches jobs");
    w.text().append("sked_up ").append(status.running ? "1" : "0").append("\n");
    w.family("sked_backend_up", "gauge", "0 during a backend outage (from a failed claim to the next answer)");
    w.text().append("sked_backend_up ").append(status.backend.reachable ? "1" : "0").append("\n");
    w.family("sked_backend_restarts_total", "counter", "Times the backend's identity changed (restart, failover)");
    w.text().append("sked_backend_restarts_total ").append(std::to_string(status.backend.restarts)).append("\n");
    if (status.backend.clock_offset) {
        w.family("sked_backend_clock_offset_seconds", "gauge", "This replica's wall clock minus the backend's");
        w.text()
            .append("sked_backend_clock_offset_seconds ")
            .append(detail::number_text(static_cast<double>(status.backend.clock_offset->count()) / 1000.0))
            .append("\n");
    }
    w.family("sked_job_runs_total", "counter", "Finished runs by outcome");
    for (const auto& j : status.jobs) {
        w.sample("sked_job_runs_total", j.name, "outcome", "succeeded", static_cast<double>(j.stats.counts.succeeded));
        w.sample("sked_job_runs_total", j.name, "outcome", "failed", static_cast<double>(j.stats.counts.failed));
    }
    w.family("sked_job_timeouts_total", "counter", "Runs that passed their timeout");
    for (const auto& j : status.jobs)
        w.sample("sked_job_timeouts_total", j.name, {}, {}, static_cast<double>(j.stats.counts.timed_out));
    w.family("sked_job_retries_total", "counter", "Failed attempts scheduled to run again");
    for (const auto& j : status.jobs)
        w.sample("sked_job_retries_total", j.name, {}, {}, static_cast<double>(j.stats.counts.retried));
    w.family("sked_job_skips_total", "counter", "Slots not run here, by reason");
    for (const auto& j : status.jobs) {
        for (std::size_t r = 1; r < skip_reason_count; ++r) {
            w.sample("sked_job_skips_total", j.name, "reason", to_string(static_cast<skip_reason>(r)),
                     static_cast<double>(j.stats.counts.skipped(static_cast<skip_reason>(r))));
        }
    }
    w.family("sked_job_running", "gauge", "Runs in progress on this replica");
    for (const auto& j : status.jobs)
        w.sample("sked_job_running", j.name, {}, {}, j.running);
    w.family("sked_job_duration_seconds", "histogram", "Run durations");
    for (const auto& j : status.jobs) {
        const auto& h = j.stats.durations;
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b < h.bounds.size(); ++b) {
            cumulative += h.buckets[b];
            w.sample("sked_job_duration_seconds_bucket", j.name, "le", detail::number_text(h.bounds[b]),
                     static_cast<double>(cumulative));
        }
        w.sample("sked_job_duration_seconds_bucket", j.name, "le", "+Inf", static_cast<double>(h.count));
        w.sample("sked_job_duration_seconds_sum", j.name, {}, {}, h.sum);
        w.sample("sked_job_duration_seconds_count", j.name, {}, {}, static_cast<double>(h.count));
    }
    w.family("sked_job_next_run_timestamp_seconds", "gauge", "Planned start of the next slot");
    for (const auto& j : status.jobs)
        if (j.next_run)
            w.sample("sked_job_next_run_timestamp_seconds", j.name, {}, {}, detail::epoch_seconds(*j.next_run));
    w.family("sked_job_last_start_timestamp_seconds", "gauge", "Start of the last run here");
    for (const auto& j : status.jobs)
        if (j.stats.last_start)
            w.sample("sked_job_last_start_timestamp_seconds", j.name, {}, {},
                     detail::epoch_seconds(*j.stats.last_start));
    w.family("sked_job_lateness_seconds", "gauge", "How late the last run started");
    for (const auto& j : status.jobs)
        w.sample("sked_job_lateness_seconds", j.name, {}, {},
                 static_cast<double>(j.stats.last_lateness.count()) / 1000.0);
    if (!status.one_offs.empty()) detail::one_off_metrics(w, status.one_offs);
    return w.take();
}

/// {"running":true,"now":"...","replica":"...","jobs":[{"name":..,"schedule":..,...}]}
inline std::string to_json(const scheduler_status& status) {
    const auto when = [](instant t) { return json_quoted(rfc3339(std::chrono::floor<std::chrono::seconds>(t))); };
    std::string out = "{\"running\":";
    out.append(status.running ? "true" : "false").append(",\"now\":").append(when(status.now));
    out.append(",\"replica\":").append(json_quoted(status.replica));
    out.append(",\"backend\":{\"reachable\":").append(status.backend.reachable ? "true" : "false");
    out.append(",\"clock_offset_ms\":")
        .append(status.backend.clock_offset ? std::to_string(status.backend.clock_offset->count()) : "null");
    out.append(",\"restarts\":").append(std::to_string(status.backend.restarts)).append("}");
    out.append(",\"jobs\":[");
    bool first = true;
    for (const auto& j : status.jobs) {
        if (!std::exchange(first, false)) out += ',';
        const auto& s = j.stats;
        out.append("{\"name\":").append(json_quoted(j.name));
        out.append(",\"schedule\":").append(json_quoted(j.schedule));
        out.append(",\"paused\":").append(j.paused ? "true" : "false");
        out.append(",\"running\":").append(std::to_string(j.running));
        out.append(",\"next_slot\":").append(j.next_slot ? json_quoted(rfc3339(*j.next_slot)) : "null");
        out.append(",\"next_run\":").append(j.next_run ? when(*j.next_run) : "null");
        out.append(",\"last_slot\":").append(s.last_slot ? json_quoted(rfc3339(*s.last_slot)) : "null");
        out.append(",\"last_start\":").append(s.last_start ? when(*s.last_start) : "null");
        out.append(",\"last_result\":").append(s.last_result ? json_quoted(to_string(*s.last_result)) : "null");
        out.append(",\"lateness_ms\":").append(std::to_string(s.last_lateness.count()));
        out.append(",\"max_lateness_ms\":").append(std::to_string(s.max_lateness.count()));
        out.append(",\"counts\":{\"started\":").append(std::to_string(s.counts.started));
        out.append(",\"succeeded\":").append(std::to_string(s.counts.succeeded));
        out.append(",\"failed\":").append(std::to_string(s.counts.failed));
        out.append(",\"retried\":").append(std::to_string(s.counts.retried));
        out.append(",\"timed_out\":").append(std::to_string(s.counts.timed_out));
        out.append(",\"skipped\":{");
        for (std::size_t r = 1; r < skip_reason_count; ++r) {
            if (r > 1) out += ',';
            out.append(json_quoted(to_string(static_cast<skip_reason>(r))))
                .append(":")
                .append(std::to_string(s.counts.skipped(static_cast<skip_reason>(r))));
        }
        out.append("}}}");
    }
    out.append("]");
    if (!status.one_offs.empty()) {
        out.append(",\"one_offs\":[");
        for (std::size_t i = 0; i < status.one_offs.size(); ++i) {
            const auto& k = status.one_offs[i];
            if (i > 0) out += ',';
            out.append("{\"kind\":").append(json_quoted(k.kind));
            out.append(",\"pending\":").append(std::to_string(k.queue.pending));
            out.append(",\"in_flight\":").append(std::to_string(k.queue.in_flight));
            out.append(",\"next_due\":").append(k.queue.next_due ? when(*k.queue.next_due) : "null");
            out.append(",\"running\":").append(std::to_string(k.running));
            out.append(",\"counts\":{\"started\":").append(std::to_string(k.started));
            out.append(",\"succeeded\":").append(std::to_string(k.succeeded));
            out.append(",\"failed\":").append(std::to_string(k.failed));
            out.append(",\"retried\":").append(std::to_string(k.retried));
            out.append(",\"lost\":").append(std::to_string(k.lost)).append("}}");
        }
        out.append("]");
    }
    return out.append("}");
}

}  // namespace sked
