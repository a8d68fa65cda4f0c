// sked/status_format.hpp — a scheduler_status as Prometheus text or JSON.
//
//     serve("/metrics", sked::to_prometheus(s.status()));          // text/plain; version=0.0.4
//     serve("/scheduler/status", sked::to_json(s.status()));       // application/json
#pragma once

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "event.hpp"
#include "job_stats.hpp"
#include "json.hpp"
#include "rfc3339.hpp"

namespace sked {

namespace detail {

// ---- Prometheus text: one writer, numbers by std::to_chars ------------------------------
// /metrics for 10,000 jobs is about 17 MB of text, so nothing here allocates per sample:
// numbers go straight into the output, each job's label is escaped once per render.

/// Appends `v` as Prometheus writes a float: shortest round-trip digits, NaN, +Inf, -Inf.
inline void append_number(std::string& out, double v) {
    if (std::isnan(v)) {
        out.append("NaN");
    } else if (std::isinf(v)) {
        out.append(v > 0 ? "+Inf" : "-Inf");
    } else {
        char text[32];
        out.append(text, std::to_chars(text, text + sizeof text, v).ptr);
    }
}
inline void append_number(std::string& out, std::uint64_t v) {
    char text[24];
    out.append(text, std::to_chars(text, text + sizeof text, v).ptr);
}

inline double seconds_of(std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1000.0; }
inline double epoch_seconds(instant t) { return seconds_of(t.time_since_epoch()); }

/// `key="value"`, the value escaped as Prometheus label values are (backslash, quote, newline).
inline std::string label(std::string_view key, std::string_view value) {
    std::string out{key};
    out.append("=\"");
    for (char c : value) {
        if (c == '\n') {
            out.append("\\n");
            continue;
        }
        if (c == '\\' || c == '"') out += '\\';
        out += c;
    }
    return out += '"';
}

class prometheus_writer {
public:
    explicit prometheus_writer(std::size_t expected_bytes) { text_.reserve(expected_bytes); }

    void family(std::string_view name, std::string_view type, std::string_view help) {
        text_.append("# HELP ").append(name).append(" ").append(help).append("\n");
        text_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
    }
    /// `name{labels} value`; `labels` is already `key="value",...` (empty: no braces).
    template <class Number>
    void sample(std::string_view name, std::string_view labels, Number value) {
        text_.append(name);
        if (!labels.empty()) text_.append("{").append(labels).append("}");
        end_sample(value);
    }
    /// `name{labels,key="value"} value`, for a `value` that needs no escaping.
    template <class Number>
    void sample(std::string_view name, std::string_view labels, std::string_view key, std::string_view value,
                Number number) {
        text_.append(name).append("{").append(labels).append(",").append(key).append("=\"").append(value).append("\"}");
        end_sample(number);
    }
    std::string take() { return std::move(text_); }

private:
    template <class Number>
    void end_sample(Number value) {
        text_ += ' ';
        if constexpr (std::is_floating_point_v<Number>) {
            append_number(text_, static_cast<double>(value));
        } else {
            append_number(text_, static_cast<std::uint64_t>(value));
        }
        text_ += '\n';
    }

    std::string text_;
};

/// `key="name"` for each item, escaped once per render.
template <class Item, class Name>
std::vector<std::string> labels_of(const std::vector<Item>& items, std::string_view key, Name name) {
    std::vector<std::string> out;
    out.reserve(items.size());
    for (const auto& item : items)
        out.push_back(label(key, name(item)));
    return out;
}

/// One family, one sample per item from value(item), an optional number: none when it is empty.
template <class Item, class Value>
void family_of(prometheus_writer& w, std::string_view name, std::string_view type, std::string_view help,
               const std::vector<Item>& items, const std::vector<std::string>& labels, Value value) {
    w.family(name, type, help);
    for (std::size_t i = 0; i < items.size(); ++i)
        if (const auto v = value(items[i])) w.sample(name, labels[i], *v);
}

inline std::optional<double> epoch_seconds(const std::optional<instant>& t) {
    return t ? std::optional{epoch_seconds(*t)} : std::nullopt;
}

// One-off kinds, labelled by kind: the queue as the last take saw it, and the runs here.
inline void one_off_metrics(prometheus_writer& w, const std::vector<one_off_kind_status>& kinds) {
    const auto labels =
        labels_of(kinds, "kind", [](const one_off_kind_status& k) -> const std::string& { return k.kind; });
    const auto each = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
        family_of(w, name, type, help, kinds, labels, value);
    };
    each("sked_one_off_pending", "gauge", "One-off jobs waiting to come due, in the backend (at the last take)",
         [](auto& k) { return std::optional{k.queue.pending}; });
    each("sked_one_off_in_flight", "gauge", "One-off jobs taken by some replica (at the last take)",
         [](auto& k) { return std::optional{k.queue.in_flight}; });
    each("sked_one_off_running", "gauge", "One-off jobs running on this replica",
         [](auto& k) { return std::optional{k.running}; });
    each("sked_one_off_next_due_timestamp_seconds", "gauge", "When the earliest pending one-off job is due",
         [](auto& k) { return epoch_seconds(k.queue.next_due); });
    w.family("sked_one_off_runs_total", "counter", "Finished one-off attempts here, by outcome");
    for (std::size_t i = 0; i < kinds.size(); ++i) {
        w.sample("sked_one_off_runs_total", labels[i], "outcome", "succeeded", kinds[i].succeeded);
        w.sample("sked_one_off_runs_total", labels[i], "outcome", "failed", kinds[i].failed);
        w.sample("sked_one_off_runs_total", labels[i], "outcome", "retried", kinds[i].retried);
    }
    each("sked_one_off_lost_total", "counter",
         "One-off runs whose end the backend refused (cancelled, or taken again after the lease ran out)",
         [](auto& k) { return std::optional{k.lost}; });
}

// The histogram's `le` label values, formatted once.
inline std::array<std::string, duration_histogram::bounds.size()> bucket_labels() {
    std::array<std::string, duration_histogram::bounds.size()> out;
    for (std::size_t b = 0; b < out.size(); ++b)
        append_number(out[b], duration_histogram::bounds[b]);
    return out;
}

}  // namespace detail

namespace detail {

// The scheduler's own series: whether it dispatches, its stagger switch, the backend.
inline void scheduler_metrics(prometheus_writer& w, const scheduler_status& status) {
    w.family("sked_up", "gauge", "1 while the scheduler dispatches jobs");
    w.sample("sked_up", {}, status.running ? 1U : 0U);
    w.family("sked_stagger_enabled", "gauge", "1 while stagger is on for every job (each job has its own switch too)");
    w.sample("sked_stagger_enabled", {}, status.stagger ? 1U : 0U);
    w.family("sked_backend_up", "gauge", "0 during a backend outage (from a failed claim to the next answer)");
    w.sample("sked_backend_up", {}, status.backend.reachable ? 1U : 0U);
    w.family("sked_backend_restarts_total", "counter", "Times the backend's identity changed (restart, failover)");
    w.sample("sked_backend_restarts_total", {}, status.backend.restarts);
    if (status.backend.clock_offset) {
        w.family("sked_backend_clock_offset_seconds", "gauge", "This replica's wall clock minus the backend's");
        w.sample("sked_backend_clock_offset_seconds", {}, detail::seconds_of(*status.backend.clock_offset));
    }
}

// Per job, labelled by its name: counters by outcome and skip reason, the switches, a
// duration histogram, next and last run times, lateness and grace.
inline void job_metrics(prometheus_writer& w, const std::vector<job_status>& jobs) {
    // Not "job": Prometheus gives every target a `job` label, and renames a scraped one.
    const auto labels =
        detail::labels_of(jobs, "sked_job", [](const job_status& j) -> const std::string& { return j.name; });
    const auto each_job = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
        detail::family_of(w, name, type, help, jobs, labels, value);
    };

    w.family("sked_job_runs_total", "counter", "Finished runs by outcome");
    for (std::size_t i = 0; i < labels.size(); ++i) {
        w.sample("sked_job_runs_total", labels[i], "outcome", "succeeded", jobs[i].stats.counts.succeeded);
        w.sample("sked_job_runs_total", labels[i], "outcome", "failed", jobs[i].stats.counts.failed);
    }
    each_job("sked_job_timeouts_total", "counter", "Runs that passed their timeout",
             [](const job_status& j) { return std::optional{j.stats.counts.timed_out}; });
    each_job("sked_job_retries_total", "counter", "Failed attempts scheduled to run again",
             [](const job_status& j) { return std::optional{j.stats.counts.retried}; });
    w.family("sked_job_skips_total", "counter", "Slots not run here, by reason");
    for (std::size_t i = 0; i < labels.size(); ++i) {
        for (std::size_t r = 1; r < skip_reason_count; ++r) {
            const auto why = static_cast<skip_reason>(r);
            w.sample("sked_job_skips_total", labels[i], "reason", to_string(why), jobs[i].stats.counts.skipped(why));
        }
    }
    each_job("sked_job_leases_lost_total", "counter", "Runs stopped because renewing their lease failed",
             [](const job_status& j) { return std::optional{j.stats.counts.lease_lost}; });
    each_job("sked_job_paused", "gauge", "1 while the job is paused (its slots are skipped)",
             [](const job_status& j) { return std::optional{j.paused ? 1U : 0U}; });
    each_job("sked_job_stagger_enabled", "gauge",
             "The job's own stagger switch (staggered while it and sked_stagger_enabled are 1)",
             [](const job_status& j) { return std::optional{j.stagger ? 1U : 0U}; });
    each_job("sked_job_running", "gauge", "Runs in progress on this replica",
             [](const job_status& j) { return std::optional{j.running}; });
    w.family("sked_job_duration_seconds", "histogram", "Run durations");
    static const auto bucket_labels = detail::bucket_labels();
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const auto& h = jobs[i].stats.durations;
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b < h.bounds.size(); ++b) {
            cumulative += h.buckets[b];
            w.sample("sked_job_duration_seconds_bucket", labels[i], "le", bucket_labels[b], cumulative);
        }
        w.sample("sked_job_duration_seconds_bucket", labels[i], "le", "+Inf", h.count);
        w.sample("sked_job_duration_seconds_sum", labels[i], h.sum);
        w.sample("sked_job_duration_seconds_count", labels[i], h.count);
    }
    each_job("sked_job_next_run_timestamp_seconds", "gauge", "Planned start of the next slot",
             [](const job_status& j) { return detail::epoch_seconds(j.next_run); });
    each_job("sked_job_last_start_timestamp_seconds", "gauge", "Start of the last run here",
             [](const job_status& j) { return detail::epoch_seconds(j.stats.last_start); });
    each_job("sked_job_lateness_seconds", "gauge", "How late the last run started",
             [](const job_status& j) { return std::optional{detail::seconds_of(j.stats.last_lateness)}; });
    each_job("sked_job_grace_seconds", "gauge", "How late a slot may start before it is a misfire",
             [](const job_status& j) { return std::optional{detail::seconds_of(j.grace)}; });
}

}  // namespace detail

/// Prometheus text exposition format (version 0.0.4): sked_up, then per job counters
/// by outcome and skip reason, a duration histogram, next and last run times.
inline std::string to_prometheus(const scheduler_status& status) {
    // About 1.8 KB a job (the histogram is most of it), so the text grows once.
    detail::prometheus_writer w{2048 + status.jobs.size() * 1900 + status.one_offs.size() * 1024};
    detail::scheduler_metrics(w, status);
    detail::job_metrics(w, status.jobs);
    if (!status.one_offs.empty()) detail::one_off_metrics(w, status.one_offs);
    return w.take();
}

/// {"running":true,"now":"...","replica":"...","jobs":[{"name":..,"schedule":..,...}]}
inline std::string to_json(const scheduler_status& status) {
    const auto when = [](instant t) { return json_quoted(rfc3339(std::chrono::floor<std::chrono::seconds>(t))); };
    std::string out = "{\"running\":";
    out.append(status.running ? "true" : "false").append(",\"now\":").append(when(status.now));
    out.append(",\"replica\":").append(json_quoted(status.replica));
    out.append(",\"stagger\":").append(status.stagger ? "true" : "false");
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
        out.append(",\"stagger\":").append(j.stagger ? "true" : "false");
        out.append(",\"running\":").append(std::to_string(j.running));
        out.append(",\"next_slot\":").append(j.next_slot ? json_quoted(rfc3339(*j.next_slot)) : "null");
        out.append(",\"next_run\":").append(j.next_run ? when(*j.next_run) : "null");
        out.append(",\"last_slot\":").append(s.last_slot ? json_quoted(rfc3339(*s.last_slot)) : "null");
        out.append(",\"last_start\":").append(s.last_start ? when(*s.last_start) : "null");
        out.append(",\"last_result\":").append(s.last_result ? json_quoted(to_string(*s.last_result)) : "null");
        out.append(",\"lateness_ms\":").append(std::to_string(s.last_lateness.count()));
        out.append(",\"max_lateness_ms\":").append(std::to_string(s.max_lateness.count()));
        out.append(",\"grace_ms\":").append(std::to_string(j.grace.count()));
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
