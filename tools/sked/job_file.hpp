// The job file of `sked check` and `sked plan` (docs/stagger.md):
//     # comment
//     NAME  SCHEDULE  [duration=DUR] [offset=DUR] [pinned]
// SCHEDULE is `@every DUR` or a cron expression in double quotes; DUR is like 45s, 5m,
// 1m30s or 2h. A cron job becomes one pinned row per fire instant in a week
// (sked::cron_rows).
#pragma once

#include <cctype>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <sked/cron.hpp>
#include <sked/duration.hpp>
#include <sked/stagger.hpp>
#include <sked/stagger_cron.hpp>

namespace sked::tool {

struct file_job {
    std::string name;
    std::string cron;  ///< the expression, for cron jobs
    std::uint32_t period = 0;  ///< seconds; a week for cron jobs
    std::vector<std::uint32_t> starts;  ///< one for @every jobs; each fire instant for cron jobs
    std::uint32_t duration = 1;
    bool pinned = false;
    std::size_t line = 0;
};

struct file_error {
    std::size_t line = 0;
    std::size_t column = 0;
    std::string reason;
};

/// A job file's duration: sked::parse_duration's grammar ("45s", "5m", "1m30s", "2h"),
/// whole seconds, at most 52 weeks, and at least 1 s unless `zero_ok`.
inline std::optional<std::uint32_t> file_seconds(std::string_view text, bool zero_ok) {
    const auto d = sked::parse_duration(text);
    if (!d || d->count() % 1000 != 0) return std::nullopt;
    const auto seconds = static_cast<std::uint64_t>(d->count() / 1000);
    if (seconds > std::uint64_t{cron_rows_window} * 52 || (seconds == 0 && !zero_ok)) return std::nullopt;
    return static_cast<std::uint32_t>(seconds);
}

class job_file_parser {
public:
    std::optional<file_error> parse_line(std::string_view line, std::size_t number) {
        line_ = line;
        at_ = 0;
        number_ = number;
        skip_space();
        if (at_ == line_.size() || line_[at_] == '#') return std::nullopt;
        file_job job;
        job.line = number;
        const std::size_t name_column = at_;
        job.name = std::string(word());
        if (!valid_name(job.name)) return error(name_column, "a job name is letters, digits, '_', '-' and '.'");
        if (const auto earlier = lines_by_name_.find(job.name); earlier != lines_by_name_.end())
            return error(name_column,
                         "job '" + job.name + "' is already defined on line " + std::to_string(earlier->second));
        skip_space();
        if (auto bad = schedule(job)) return bad;
        while (true) {
            skip_space();
            if (at_ == line_.size() || line_[at_] == '#') break;
            if (auto bad = option(job)) return bad;
        }
        if (job.duration > job.period) {
            return error(0, "duration " + std::to_string(job.duration) + " s is longer than the period (" +
                                std::to_string(job.period) + " s)");
        }
        lines_by_name_.emplace(job.name, number);
        jobs_.push_back(std::move(job));
        return std::nullopt;
    }

    std::vector<file_job>& jobs() { return jobs_; }

private:
    std::optional<file_error> schedule(file_job& job) {
        const std::size_t column = at_;
        if (line_.substr(at_).starts_with("@every")) {
            at_ += 6;
            skip_space();
            const std::size_t value_column = at_;
            const auto period = file_seconds(word(), false);
            if (!period) return error(value_column, "expected a duration like 45s, 5m or 1m30s after @every");
            job.period = *period;
            job.starts = {0};
            return std::nullopt;
        }
        if (at_ == line_.size() || line_[at_] != '"') {
            return error(column, "expected a schedule: @every DUR, or a cron expression in double quotes");
        }
        const auto close = line_.find('"', at_ + 1);
        if (close == std::string_view::npos) return error(column, "the cron expression's closing quote is missing");
        job.cron = std::string(line_.substr(at_ + 1, close - at_ - 1));
        at_ = close + 1;
        const auto parsed = cron::parse(job.cron, {.job_name = job.name});
        if (!parsed) {
            return error(column + 1 + (parsed.error().column == 0 ? 0 : parsed.error().column - 1),
                         std::string(parsed.error().message().view()));
        }
        return expand(job, *parsed, column);
    }

    std::optional<file_error> expand(file_job& job, const cron& expression, std::size_t column) {
        const auto rows = cron_rows(job.name, expression);
        if (!rows) {
            return error(column,
                         "the cron expression fires more than once a minute, or never in a week; "
                         "use @every for frequent jobs");
        }
        job.period = cron_rows_window;
        job.pinned = true;
        for (const auto& row : *rows)
            job.starts.push_back(row.offset);
        return std::nullopt;
    }

    std::optional<file_error> option(file_job& job) {
        const std::size_t column = at_;
        const std::string_view text = word();
        if (text == "pinned") {
            job.pinned = true;
            return std::nullopt;
        }
        const auto equals = text.find('=');
        const auto key = text.substr(0, equals);
        if (equals == std::string_view::npos || (key != "duration" && key != "offset")) {
            return error(column, "expected duration=DUR, offset=DUR or pinned, not '" + std::string(text) + "'");
        }
        const auto value = file_seconds(text.substr(equals + 1), key == "offset");
        if (!value) return error(column + equals + 1, "expected a duration like 45s, 5m or 1m30s");
        if (key == "duration") {
            job.duration = *value;
        } else if (!job.cron.empty()) {
            return error(column, "a cron job's time comes from its expression; offset= is for @every jobs");
        } else if (*value >= job.period) {
            return error(column + equals + 1, "offset " + std::to_string(*value) + " s is not within the period (" +
                                                  std::to_string(job.period) + " s)");
        } else {
            job.starts = {*value};
        }
        return std::nullopt;
    }

    static bool valid_name(std::string_view name) {
        if (name.empty()) return false;
        for (char c : name) {
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
        }
        return true;
    }

    std::string_view word() {
        const std::size_t from = at_;
        while (at_ < line_.size() && !std::isspace(static_cast<unsigned char>(line_[at_])))
            ++at_;
        return line_.substr(from, at_ - from);
    }

    void skip_space() {
        while (at_ < line_.size() && std::isspace(static_cast<unsigned char>(line_[at_])))
            ++at_;
    }

    file_error error(std::size_t column, std::string reason) const { return {number_, column + 1, std::move(reason)}; }

    std::string_view line_;
    std::size_t at_ = 0;
    std::size_t number_ = 0;
    std::vector<file_job> jobs_;
    std::unordered_map<std::string, std::size_t> lines_by_name_;  // duplicates found in O(1), not O(jobs)
};

/// The stagger table of a file's jobs: one row per @every job, one per cron instant.
struct expanded_table {
    std::vector<stagger_job> rows;
    std::vector<std::size_t> job_of_row;  ///< index into the file's jobs
    std::vector<std::size_t> first_row;  ///< per file job, its first row
};

inline expanded_table expand_table(const std::vector<file_job>& jobs) {
    expanded_table table;
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        table.first_row.push_back(table.rows.size());
        for (const auto start : jobs[j].starts) {
            table.rows.push_back({.name = jobs[j].name,
                                  .period = jobs[j].period,
                                  .offset = start,
                                  .duration = jobs[j].duration,
                                  .pinned = jobs[j].pinned});
            table.job_of_row.push_back(j);
        }
    }
    return table;
}

}  // namespace sked::tool
