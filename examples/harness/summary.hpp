// examples/harness/summary.hpp — did every slot run once? Counted from the audit alone.
//
// A slot is the schedule's nominal time. Between `from` and `to` the schedule names the
// slots that were due; each should have exactly one "ok" execution. A job that never runs
// twice at once (exactly_once_serial) skips, by design, the slots that come due while it
// runs; those are counted as such, not as misses, when an execution covers their start.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iterator>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <sked/job.hpp>
#include <sked/schedule.hpp>

#include "audit.hpp"

namespace example {

/// Where each run of `job` starts after its slot: the fixed offset, or the hashed one.
inline std::chrono::seconds offset_of(const sked::job_spec& job) { return sked::start_offset(job.name, job.options); }

/// Whether `job` never runs twice at once across replicas, so that slots due while it
/// runs are skipped by design.
inline bool serial(const sked::job_spec& job) {
    return job.options.mode == sked::distribution::exactly_once_serial ||
           job.options.mode == sked::distribution::single_runner;
}

struct summary {
    std::size_t slots = 0;  ///< due between from and to
    std::size_t executions = 0;  ///< "ok" executions of those slots
    std::size_t duplicates = 0;  ///< slots with more than one "ok" execution
    std::size_t misses = 0;  ///< slots with none, and not explained by a running job
    std::size_t skipped_while_running = 0;  ///< serial jobs: due while the job ran
    std::size_t overlaps = 0;  ///< serial jobs: executions that ran at the same time
    std::size_t late = 0;  ///< started more than the grace window after their slot
    std::size_t fenced = 0, failed = 0;  ///< executions whose writes were refused, or that threw
    std::vector<std::string> problems{};  ///< the first few, each naming its slot

    [[nodiscard]] bool ok() const { return duplicates == 0 && misses == 0 && overlaps == 0; }
};

namespace detail {

inline void note(summary& s, std::string text) {
    if (s.problems.size() < 5) s.problems.push_back(std::move(text));
}

}  // namespace detail

/// Counts the executions of `job`'s slots due in [from, to).
inline summary summarize(const sked::job_spec& job, std::span<const execution> all, std::chrono::sys_seconds from,
                         std::chrono::sys_seconds to) {
    using namespace std::chrono;
    const auto offset = offset_of(job);
    std::vector<const execution*> ok;
    summary s;
    for (const auto& e : all) {
        if (e.job != job.name) continue;
        if (e.outcome == "ok") ok.push_back(&e);
        s.fenced += e.outcome == "fenced";
        s.failed += e.outcome == "failed";
    }
    std::map<sys_seconds, std::size_t> runs_of;
    for (const auto* e : ok)
        ++runs_of[e->slot];
    std::sort(ok.begin(), ok.end(), [](auto* a, auto* b) { return a->started < b->started; });
    // Serial runs do not overlap (checked below), so only the last run started by t can cover t.
    const auto running_at = [&](sked::instant t) {
        const auto after =
            std::upper_bound(ok.begin(), ok.end(), t, [](sked::instant at, auto* e) { return at < e->started; });
        return after != ok.begin() && t < (*std::prev(after))->finished;
    };
    for (auto slot = job.schedule.next(from - seconds{1}); slot && *slot + offset < to;
         slot = job.schedule.next(*slot)) {
        ++s.slots;
        const auto found = runs_of.find(*slot);
        const std::size_t runs = found == runs_of.end() ? 0 : found->second;
        s.executions += runs;
        if (runs > 1) {
            ++s.duplicates;
            detail::note(s, sked::rfc3339(*slot) + " ran " + std::to_string(runs) + " times");
        } else if (runs == 0 && serial(job) && running_at(sked::instant{*slot + offset})) {
            ++s.skipped_while_running;
        } else if (runs == 0) {
            ++s.misses;
            detail::note(s, sked::rfc3339(*slot) + " never ran");
        }
    }
    for (const auto* e : ok)
        s.late += e->started - (e->slot + offset) > job.options.grace + job.options.max_jitter;
    if (serial(job)) {
        for (std::size_t i = 1; i < ok.size(); ++i) {
            if (ok[i]->started < ok[i - 1]->finished) {
                ++s.overlaps;
                detail::note(
                    s, sked::rfc3339(ok[i]->slot) + " started while " + sked::rfc3339(ok[i - 1]->slot) + " still ran");
            }
        }
    }
    return s;
}

inline void print(const std::string& job, const summary& s, std::FILE* out = stdout) {
    std::fprintf(out, "%s: %zu slots, %zu executions, %zu duplicates, %zu misses", job.c_str(), s.slots, s.executions,
                 s.duplicates, s.misses);
    if (s.skipped_while_running > 0) std::fprintf(out, ", %zu skipped while a run lasted", s.skipped_while_running);
    if (s.late > 0) std::fprintf(out, ", %zu caught up late", s.late);
    if (s.overlaps > 0) std::fprintf(out, ", %zu overlapping runs", s.overlaps);
    if (s.fenced > 0) std::fprintf(out, ", %zu writes refused by fencing", s.fenced);
    if (s.failed > 0) std::fprintf(out, ", %zu failed", s.failed);
    std::fprintf(out, "\n");
    for (const auto& p : s.problems)
        std::fprintf(out, "  %s\n", p.c_str());
}

}  // namespace example
