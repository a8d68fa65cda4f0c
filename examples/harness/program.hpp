// examples/harness/program.hpp — the parts of main() every example shares, around what
// its service does.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include <sked/job.hpp>
#include <sked/schedule.hpp>

#include "command_line.hpp"
#include "fleet.hpp"
#include "summary.hpp"

namespace example {

/// The parsed options; on --help prints the usage and exits 0, on a bad option prints
/// what was wrong and exits 2.
inline options parse_or_exit(int argc, char** argv, std::string_view about, const std::vector<extra_option>& extras) {
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
            std::printf("%.*s\n\n%s", static_cast<int>(about.size()), about.data(), usage(argv[0], extras).c_str());
            std::exit(0);
        }
    }
    auto parsed = parse_command_line(argc, argv, extras);
    if (!parsed) {
        std::fprintf(stderr, "%s: %s\n", argv[0], parsed.error().c_str());
        std::exit(2);
    }
    return *std::move(parsed);
}

/// The job as the example defines it, with --tick (every tick, no stagger: the period is
/// too short for it), --lease, --misfire and --overlap applied.
inline sked::job_spec with_command_line(const options& o, sked::job_spec job) {
    if (o.tick) {
        job.schedule = sked::schedule::every(*o.tick);
        job.options.offset = job.options.hashed_offset_within = std::chrono::seconds{0};
    }
    if (o.lease) job.options.lease_ttl = *o.lease;
    if (o.on_misfire) job.options.on_misfire = *o.on_misfire;
    if (o.on_overlap) job.options.on_overlap = *o.on_overlap;
    return job;
}

/// An example's own option, or exit 2 with the error.
template <class T>
T or_exit(sked::result<T, std::string> parsed) {
    if (!parsed) {
        std::fprintf(stderr, "%s\n", parsed.error().c_str());
        std::exit(2);
    }
    return *std::move(parsed);
}

/// Opens the fleet or exits 2 saying why (Redis unreachable, audit file not writable).
inline std::unique_ptr<fleet> open_or_exit(const options& o) {
    auto opened = fleet::open(o);
    if (!opened) {
        std::fprintf(stderr, "%s\n", opened.error().c_str());
        std::exit(2);
    }
    return *std::move(opened);
}

/// Runs `serve` on every replica, then prints the summary line; false when a slot ran
/// twice or was missed. Exits 2 when a replica refused the job.
inline bool run_and_summarize(fleet& f, const sked::job_spec& job, fleet::serve_function serve) {
    if (auto refused = f.run(job, std::move(serve))) {
        std::fprintf(stderr, "%s\n", refused->c_str());
        std::exit(2);
    }
    if (!f.sees_every_replica()) {
        std::printf(
            "%s: %zu executions here; other processes share --prefix: check their merged audits "
            "with --check\n",
            job.name.c_str(), f.executions());
        return true;
    }
    const auto s = f.summarize(job);
    print(job.name, s);
    return s.ok();
}

}  // namespace example
