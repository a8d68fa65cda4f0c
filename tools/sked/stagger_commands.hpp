// `sked check FILE` and `sked plan FILE [--json] [--within DUR] [--svg OUT [--window DUR]]`.
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <sked/json.hpp>
#include <sked/stagger.hpp>
#include <sked/stagger_lint.hpp>
#include <sked/stagger_plan.hpp>

#include "collision_index.hpp"
#include "concurrency_svg.hpp"
#include "job_file.hpp"

namespace sked::tool {

struct stagger_arguments {
    std::string command;  ///< "check" or "plan"
    std::string file;
    bool json = false;
    std::uint32_t within = 0;  ///< plan offsets within the first `within` seconds
    std::string svg;
    std::uint32_t window = 0;  ///< seconds drawn; 0 = one hyperperiod
    std::size_t limit = 20;  ///< check: colliding pairs listed (all are counted)
    bool all = false;  ///< check: list every colliding pair
};

inline int stagger_fail(const std::string& message) {
    std::fprintf(stderr, "sked: %s\n", message.c_str());
    return 2;
}

/// Reads FILE; on a malformed line prints FILE:LINE:COLUMN: reason and returns nothing.
inline std::optional<std::vector<file_job>> read_job_file(const std::string& path) {
    std::error_code why;
    if (std::filesystem::is_directory(path, why)) {
        std::fprintf(stderr, "sked: %s is a directory; expected a job file\n", path.c_str());
        return std::nullopt;
    }
    std::ifstream in(path);
    if (!in) {
        std::fprintf(stderr, "sked: cannot read %s\n", path.c_str());
        return std::nullopt;
    }
    job_file_parser parser;
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
        // A UTF-8 byte order mark, as some editors write, is not part of the first name.
        if (number == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
        if (auto bad = parser.parse_line(line, number)) {
            std::fprintf(stderr, "%s:%zu:%zu: %s\n", path.c_str(), bad->line, bad->column, bad->reason.c_str());
            return std::nullopt;
        }
    }
    if (parser.jobs().empty()) {
        std::fprintf(stderr, "%s:1:1: no jobs in the file\n", path.c_str());
        return std::nullopt;
    }
    return std::move(parser.jobs());
}

inline std::string seconds_text(std::uint64_t s) {
    std::string text;
    if (s >= 3600) text += std::to_string(s / 3600) + "h";
    if (s % 3600 >= 60) text += std::to_string(s % 3600 / 60) + "m";
    if (s % 60 != 0 || s == 0) text += std::to_string(s % 60) + "s";
    return text;
}

// The colliding pairs of file jobs (a cron job's own instants are not a collision): the
// first `limit` in file order are printed; all are counted. Pairs of one-row jobs are
// counted by sked::check; a pair with a cron job (a row per instant) is counted from the
// cron job's side, finding each of its rows' partners and counting each partner job once.
inline std::size_t report_collisions(const std::vector<file_job>& jobs, const expanded_table& table,
                                     std::uint64_t single_row_pairs, std::size_t limit) {
    collision_index index{table.rows};
    const auto multi_row = [&](std::size_t j) { return jobs[j].starts.size() > 1; };
    std::vector<std::size_t> seen_by(jobs.size(), jobs.size());  // the job whose partners marked it
    std::vector<std::size_t> partner_at(jobs.size(), 0);  // where in `partners`, once marked
    std::vector<std::pair<std::size_t, bool>> partners;  // (job, starts in the same second)
    std::size_t printed = 0;
    std::uint64_t pairs = single_row_pairs;
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        if (!multi_row(j) && printed >= limit) continue;  // nothing left to print, nothing to count
        partners.clear();
        const std::size_t end = j + 1 < jobs.size() ? table.first_row[j + 1] : table.rows.size();
        for (std::size_t row = table.first_row[j]; row < end; ++row) {
            index.for_each_partner(row, [&](std::size_t other) {
                const auto k = table.job_of_row[other];
                if (k == j) return;
                const bool starts = overlap_of(table.rows[row], table.rows[other]).starts;
                if (seen_by[k] != j) {
                    seen_by[k] = j;
                    partner_at[k] = partners.size();
                    partners.emplace_back(k, starts);
                } else if (starts) {
                    partners[partner_at[k]].second = true;
                }
            });
        }
        std::sort(partners.begin(), partners.end());
        for (const auto& [k, starts] : partners) {
            if (multi_row(j) && (!multi_row(k) || k > j)) ++pairs;
            if (k < j || printed++ >= limit) continue;
            std::printf("collision: %s and %s %s\n", jobs[j].name.c_str(), jobs[k].name.c_str(),
                        starts ? "start in the same second" : "run at the same time");
        }
    }
    if (pairs > limit)
        std::printf("... and %llu more colliding pairs (--all lists every one)\n",
                    static_cast<unsigned long long>(pairs - limit));
    return static_cast<std::size_t>(pairs);
}

inline int run_check(const stagger_arguments& args) {
    const auto jobs = read_job_file(args.file);
    if (!jobs) return 2;
    const auto table = expand_table(*jobs);
    const auto report = check(table.rows);
    std::vector<stagger_job> single_rows;
    for (std::size_t j = 0; j < jobs->size(); ++j)
        if ((*jobs)[j].starts.size() == 1) single_rows.push_back(table.rows[table.first_row[j]]);
    const auto pairs = report_collisions(*jobs, table, check(single_rows).collisions,
                                         args.all ? std::numeric_limits<std::size_t>::max() : args.limit);
    std::vector<stagger_job> periodic;  // lint speaks of periods; cron rows would only add noise
    for (std::size_t row = 0; row < table.rows.size(); ++row) {
        if ((*jobs)[table.job_of_row[row]].cron.empty()) periodic.push_back(table.rows[row]);
    }
    const std::size_t warnings_shown = args.all ? std::numeric_limits<std::size_t>::max() : args.limit;
    std::size_t warnings = 0;
    for (const auto& warning : lint(periodic)) {
        if (warning.what != stagger_warning::kind::start_together) continue;
        if (warnings++ < warnings_shown) std::printf("warning: %s\n", warning.message.c_str());
    }
    if (warnings > warnings_shown)
        std::printf("... and %zu more groups of jobs starting together (--all lists every one)\n",
                    warnings - warnings_shown);
    constexpr std::size_t shown = 5;
    const auto instants = peak_instants(table.rows, shown + 1);
    std::string when;
    for (std::size_t i = 0; i < instants.size() && i < shown; ++i) {
        when += (i == 0 ? "" : ", ") + seconds_text(instants[i]);
    }
    if (instants.size() > shown) when += ", ...";
    if (report.peak > 1) {
        std::printf("peak concurrency: %u at %s into the %s cycle\n", report.peak, when.c_str(),
                    seconds_text(report.hyperperiod).c_str());
    } else {
        std::printf("peak concurrency: %u over the %s cycle\n", report.peak, seconds_text(report.hyperperiod).c_str());
    }
    std::printf("%zu jobs, %zu colliding pairs\n", jobs->size(), pairs);
    return pairs == 0 ? 0 : 1;
}

/// Reads `sked check|plan FILE [options]`; on a usage error returns nothing and sets `problem`.
inline std::optional<stagger_arguments> read_stagger_arguments(int argc, char** argv, std::string& problem) {
    stagger_arguments args;
    args.command = argv[1];
    for (int i = 2; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const bool takes_value = arg == "--within" || arg == "--svg" || arg == "--window";
        if (takes_value && i + 1 >= argc) return problem = std::string(arg) + " needs a value", std::nullopt;
        if (arg == "--json" && args.command == "plan") {
            args.json = true;
        } else if (arg == "--all" && args.command == "check") {
            args.all = true;
        } else if (takes_value && args.command == "plan") {
            const std::string value = argv[++i];
            if (arg == "--svg") {
                args.svg = value;
                continue;
            }
            const auto seconds = file_seconds(value, false);
            if (!seconds) return problem = std::string(arg) + " takes a duration like 50s or 10m", std::nullopt;
            (arg == "--within" ? args.within : args.window) = *seconds;
        } else if (arg.starts_with("--")) {
            return problem = "unknown option " + std::string(arg) + " for " + args.command, std::nullopt;
        } else if (args.file.empty()) {
            args.file = arg;
        } else {
            return problem = "expected one job file", std::nullopt;
        }
    }
    if (args.file.empty()) return problem = "expected a job file", std::nullopt;
    return args;
}

inline int run_plan(const stagger_arguments& args) {
    const auto jobs = read_job_file(args.file);
    if (!jobs) return 2;
    const auto table = expand_table(*jobs);
    const auto planned = plan(table.rows, {.window = args.within});
    if (!planned) return stagger_fail(planned.error().reason);
    if (args.json) {
        std::printf("{\"jobs\":[");
        for (std::size_t j = 0; j < jobs->size(); ++j) {
            const auto& job = planned->jobs[table.first_row[j]];
            std::printf("%s{\"name\":%s,\"period_s\":%u,\"offset_s\":%u,\"duration_s\":%u}", j == 0 ? "" : ",",
                        sked::json_quoted((*jobs)[j].name).c_str(), job.period, job.offset, job.duration);
        }
        std::printf("],\"peak\":%u,\"peak_unstaggered\":%u,\"lower_bound\":%u}\n", planned->peak,
                    planned->peak_unstaggered, planned->lower_bound);
    } else {
        std::printf("%-24s %-10s %-10s %s\n", "NAME", "PERIOD", "OFFSET", "DURATION");
        for (std::size_t j = 0; j < jobs->size(); ++j) {
            const auto& job = planned->jobs[table.first_row[j]];
            const std::string period = (*jobs)[j].cron.empty() ? seconds_text(job.period) : "cron";
            const std::string offset = (*jobs)[j].cron.empty() ? seconds_text(job.offset) : "-";
            std::printf("%-24s %-10s %-10s %s%s\n", (*jobs)[j].name.c_str(), period.c_str(), offset.c_str(),
                        seconds_text(job.duration).c_str(), job.pinned ? " pinned" : "");
        }
        std::printf("peak concurrency: %u (unstaggered: %u, lower bound: %u)\n", planned->peak,
                    planned->peak_unstaggered, planned->lower_bound);
    }
    if (!args.svg.empty()) {
        expanded_table before = table, after = table;
        for (auto& row : before.rows) {
            if (!row.pinned) row.offset = 0;
        }
        after.rows = planned->jobs;
        std::ofstream out(args.svg);
        out << concurrency_svg(before, after, hyperperiod_of(table.rows), args.window);
        if (!out) return stagger_fail("cannot write " + args.svg);
    }
    return 0;
}

}  // namespace sked::tool
