// `sked check FILE` and `sked plan FILE [--json] [--within DUR] [--svg OUT [--window DUR]]`.
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <sked/json.hpp>
#include <sked/stagger.hpp>
#include <sked/stagger_lint.hpp>
#include <sked/stagger_plan.hpp>

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

inline int run_check(const stagger_arguments& args) {
    const auto jobs = read_job_file(args.file);
    if (!jobs) return 2;
    const auto table = expand_table(*jobs);
    const auto report = check(table.rows);
    // Each colliding pair of file jobs once (a cron job's own instants are not a collision).
    std::vector<std::vector<bool>> told(jobs->size(), std::vector<bool>(jobs->size(), false));
    std::size_t pairs = 0;
    for (std::size_t a = 0; a < table.rows.size(); ++a) {
        for (std::size_t b = a + 1; b < table.rows.size(); ++b) {
            const auto ja = table.job_of_row[a], jb = table.job_of_row[b];
            if (ja == jb || told[ja][jb]) continue;
            const auto overlap = overlap_of(table.rows[a], table.rows[b]);
            if (!overlap.runs) continue;
            told[ja][jb] = told[jb][ja] = true;
            ++pairs;
            std::printf("collision: %s and %s %s\n", (*jobs)[ja].name.c_str(), (*jobs)[jb].name.c_str(),
                        overlap.starts ? "start in the same second" : "run at the same time");
        }
    }
    std::vector<stagger_job> periodic;  // lint speaks of periods; cron rows would only add noise
    for (std::size_t row = 0; row < table.rows.size(); ++row) {
        if ((*jobs)[table.job_of_row[row]].cron.empty()) periodic.push_back(table.rows[row]);
    }
    for (const auto& warning : lint(periodic)) {
        if (warning.what == stagger_warning::kind::start_together)
            std::printf("warning: %s\n", warning.message.c_str());
    }
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
