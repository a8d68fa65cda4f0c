// sked/stagger.hpp — periodic job tables: collision checks, offset planning, hash spread.
//
// Many periodic jobs that all fire at second :00 load a database at the same moment.
// A table gives each job a period, an offset into it and an expected duration; check()
// says which jobs run at the same time and how many at most, and plan() assigns
// offsets that keep that peak as low as it can go:
//
//     constexpr sked::stagger_job table[] = {
//         {.name = "referral_tier2", .period = 60, .duration = 3},
//         {.name = "live_stats", .period = 60, .offset = 45, .pinned = true}};
//     static_assert(sked::check(table).collisions == 0);
//     auto planned = sked::plan(jobs);          // planned.peak, planned.lower_bound, ...
//
// Times are whole seconds; a job with period p, offset o and duration d runs during
// [o + k p, o + k p + d) for every integer k. The pattern of all jobs repeats every
// hyperperiod, the least common multiple of the periods.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "hash.hpp"

namespace sked {

/// One periodic job. Precondition for check() and plan(): period > 0, and
/// 1 <= duration <= period (lint() reports tables that break it).
struct stagger_job {
    std::string_view name;
    std::uint32_t period = 60;  ///< seconds between starts
    std::uint32_t offset = 0;  ///< seconds into the period of the first start
    std::uint32_t duration = 1;  ///< expected seconds of running
    bool pinned = false;  ///< set by the operator: plan() keeps the offset
};

/// What check() found.
struct stagger_report {
    static constexpr std::size_t none = static_cast<std::size_t>(-1);

    std::size_t collisions = 0;  ///< pairs of jobs whose run windows ever overlap
    std::size_t same_second = 0;  ///< of those, pairs that ever start in the same second
    std::uint32_t peak = 0;  ///< the most jobs running in one second
    std::uint64_t peak_at = 0;  ///< the first second of the hyperperiod with that many
    std::uint64_t hyperperiod = 0;  ///< lcm of the periods; 0 when it exceeds max_hyperperiod
    std::size_t first = none;  ///< index of a job in the first colliding pair, or none
    std::size_t second = none;  ///< index of the other job of that pair
};

/// Hyperperiods longer than this (about 194 days) are not checked for their peak:
/// check() then reports hyperperiod 0 and the pairwise counts only. The peak is
/// found with a count per second of the hyperperiod, so this bounds its memory
/// (128 MiB); periods that divide a day or a week are far below it.
inline constexpr std::uint64_t max_hyperperiod = std::uint64_t{1} << 24;

/// The least common multiple of the periods: the pattern of all jobs repeats after it.
/// 0 for an empty table, or when it exceeds max_hyperperiod.
constexpr std::uint64_t hyperperiod_of(std::span<const stagger_job> jobs) {
    std::uint64_t h = 1;
    for (const auto& job : jobs) {
        h = std::lcm(h, std::uint64_t{job.period});
        if (h > max_hyperperiod) return 0;
    }
    return jobs.empty() ? 0 : h;
}

/// Whether two jobs ever run in the same second, and whether they ever start in it.
struct pair_overlap {
    bool runs;
    bool starts;
};

/// Their start differences are exactly the values congruent to (o_b - o_a) modulo
/// g = gcd(p_a, p_b), so the windows overlap when one such difference lies in
/// (-d_b, d_a): the residue r itself, or r - g.
constexpr pair_overlap overlap_of(const stagger_job& a, const stagger_job& b) {
    const std::uint64_t g = std::gcd(a.period, b.period);
    const std::uint64_t r = (b.offset % g + g - a.offset % g) % g;
    return {r < a.duration || g - r < b.duration, r == 0};
}

/// Whether `job` runs during `second` (seconds since the start of the hyperperiod).
constexpr bool running_at(const stagger_job& job, std::uint64_t second) {
    return (second + job.period - job.offset % job.period) % job.period < job.duration;
}

/// How many jobs run in each second of [0, hyperperiod). Run time only.
inline std::vector<std::uint32_t> load_over(std::span<const stagger_job> jobs, std::uint64_t hyperperiod);

namespace detail {

// The peak is reached at some job's start, so only starts are counted: n per start,
// which suits the small tables of constant expressions (no allocation).
constexpr void peak_at_starts(std::span<const stagger_job> jobs, stagger_report& report) {
    for (const auto& job : jobs) {
        for (std::uint64_t start = job.offset % job.period; start < report.hyperperiod; start += job.period) {
            std::uint32_t running = 0;
            for (const auto& other : jobs)
                running += running_at(other, start) ? 1u : 0u;
            if (running > report.peak || (running == report.peak && start < report.peak_at)) {
                report.peak = running;
                report.peak_at = start;
            }
        }
    }
}

/// Colliding pairs by looking at every pair: O(n^2), no allocation.
constexpr void count_pairs_directly(std::span<const stagger_job> jobs, stagger_report& report) {
    for (std::size_t a = 0; a < jobs.size(); ++a) {
        for (std::size_t b = a + 1; b < jobs.size(); ++b) {
            const auto overlap = overlap_of(jobs[a], jobs[b]);
            if (!overlap.runs) continue;
            if (report.collisions++ == 0) {
                report.first = a;
                report.second = b;
            }
            report.same_second += overlap.starts ? 1 : 0;
        }
    }
}

/// One period group's starts and windows by residue modulo g.
class residue_counts {
public:
    residue_counts(std::span<const stagger_job> jobs, const std::vector<std::size_t>& group, std::uint32_t g)
        : g_(g), starts_at_(g, 0), starts_before_(g + 1, 0), cover_(g, 0) {
        std::vector<std::int64_t> cover_delta(g + 1, 0);
        for (auto b : group) {
            const std::uint32_t r = jobs[b].offset % g;
            ++starts_at_[r];
            add_cover(cover_delta, r + 1, r + std::min(jobs[b].duration, g));  // a longer window covers every residue
        }
        for (std::uint32_t x = 0; x < g; ++x)
            starts_before_[x + 1] = starts_before_[x] + starts_at_[x];
        std::int64_t running = 0;
        for (std::uint32_t x = 0; x < g; ++x)
            cover_[x] = static_cast<std::uint64_t>(running += cover_delta[x]);
    }

    /// Starts at residue x.
    [[nodiscard]] std::uint64_t starts_at(std::uint32_t x) const { return starts_at_[x]; }
    /// Starts in [from, from + length) modulo g, length < g.
    [[nodiscard]] std::uint64_t starts_in(std::uint32_t from, std::uint32_t length) const {
        const std::uint32_t to = from + length;
        if (to <= g_) return starts_before_[to] - starts_before_[from];
        return starts_before_[g_] - starts_before_[from] + starts_before_[to - g_];
    }
    /// Windows that run at residue x without starting there.
    [[nodiscard]] std::uint64_t cover(std::uint32_t x) const { return cover_[x]; }

private:
    // A window running over residues [first, last), last < 2g, may wrap past the period.
    void add_cover(std::vector<std::int64_t>& delta, std::uint32_t first, std::uint32_t last) const {
        if (first >= last) return;
        if (first == g_) {
            first = 0;
            last -= g_;
        }
        ++delta[first];
        if (last <= g_) {
            --delta[last];
        } else {
            --delta[g_];
            ++delta[0];
            --delta[last - g_];
        }
    }

    std::uint32_t g_;
    std::vector<std::uint32_t> starts_at_, starts_before_;
    std::vector<std::uint64_t> cover_;
};

/// The first colliding pair by index: the first job with a partner, and its first partner after it.
inline void find_first_pair(std::span<const stagger_job> jobs, const std::vector<std::uint64_t>& partners,
                            stagger_report& report) {
    for (std::size_t a = 0; a < jobs.size(); ++a) {
        if (partners[a] == 0) continue;
        for (std::size_t b = a + 1; b < jobs.size(); ++b) {
            if (!overlap_of(jobs[a], jobs[b]).runs) continue;
            report.first = a;
            report.second = b;
            return;
        }
    }
}

/// The same counts per group of equal periods. For jobs a and b with g = gcd of their
/// periods and r = (o_b - o_a) mod g, the windows overlap when r < d_a (b starts while
/// a runs: a range count over the starts of b's group modulo g) or r > g - d_b (a
/// starts while b runs: how many of the group's windows cover o_a modulo g). When
/// d_a + d_b <= g the two cannot both hold, so the counts add up; when d_a + d_b > g
/// every r is one of them, so every pair collides. A pair of groups with jobs that long
/// is counted by b's durations: each duration's residue counts, or all of its jobs.
/// O(groups^2 * g + n * durations) for the usual tables.
inline void count_pairs_by_period(std::span<const stagger_job> jobs, stagger_report& report) {
    struct period_group {
        std::vector<std::size_t> members;
        std::uint32_t longest = 0;
        std::map<std::uint32_t, std::vector<std::size_t>> by_duration{};  // made when first needed
    };
    std::map<std::uint32_t, period_group> groups;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        auto& group = groups[jobs[i].period];
        group.members.push_back(i);
        group.longest = std::max(group.longest, jobs[i].duration);
    }
    std::vector<std::uint64_t> partners(jobs.size(), 0), same_start(jobs.size(), 0);
    // Adds what b_members (of one period, and of one duration `only` unless 0) count for
    // each job of group_a.
    const auto count = [&](const std::vector<std::size_t>& group_a, const std::vector<std::size_t>& b_members,
                           std::uint32_t g, bool same_period, std::uint32_t only) {
        const residue_counts b{jobs, b_members, g};
        for (auto a : group_a) {
            const std::uint32_t r = jobs[a].offset % g;
            const std::uint64_t self = same_period && (only == 0 || jobs[a].duration == only) ? 1 : 0;
            const bool all = only != 0 && std::uint64_t{jobs[a].duration} + only > g;
            partners[a] += (all ? b_members.size() : b.starts_in(r, jobs[a].duration) + b.cover(r)) - self;
            same_start[a] += b.starts_at(r) - self;
        }
    };
    for (auto& [period_b, group_b] : groups) {
        for (const auto& [period_a, group_a] : groups) {
            const std::uint32_t g = std::gcd(period_a, period_b);
            const bool same_period = period_a == period_b;
            if (std::uint64_t{group_a.longest} + group_b.longest <= g) {
                count(group_a.members, group_b.members, g, same_period, 0);
                continue;
            }
            if (group_b.by_duration.empty())
                for (auto b : group_b.members)
                    group_b.by_duration[jobs[b].duration].push_back(b);
            for (const auto& [duration, members] : group_b.by_duration)
                count(group_a.members, members, g, same_period, duration);
        }
    }
    for (std::size_t a = 0; a < jobs.size(); ++a) {
        report.collisions += partners[a];
        report.same_second += same_start[a];
    }
    report.collisions /= 2;
    report.same_second /= 2;
    find_first_pair(jobs, partners, report);
}

}  // namespace detail

// A difference array over the hyperperiod, then a prefix sum.
inline std::vector<std::uint32_t> load_over(std::span<const stagger_job> jobs, std::uint64_t hyperperiod) {
    std::vector<std::int32_t> delta(hyperperiod + 1, 0);
    for (const auto& job : jobs) {
        for (std::uint64_t start = job.offset % job.period; start < hyperperiod; start += job.period) {
            const std::uint64_t end = start + job.duration;
            delta[start] += 1;
            if (end <= hyperperiod) {
                delta[end] -= 1;
            } else {  // wraps into the next hyperperiod, which repeats this one
                delta[hyperperiod] -= 1;
                delta[0] += 1;
                delta[end - hyperperiod] -= 1;
            }
        }
    }
    std::vector<std::uint32_t> load(hyperperiod);
    std::int32_t running = 0;
    for (std::uint64_t second = 0; second < hyperperiod; ++second) {
        running += delta[second];
        load[second] = static_cast<std::uint32_t>(running);
    }
    return load;
}

/// Collisions and peak concurrency of a table. At run time pairs are counted per
/// period group (count_pairs_by_period) and the peak over one hyperperiod in
/// O(hyperperiod + starts); in constant expressions pair by pair, and the peak by
/// counting at every start.
constexpr stagger_report check(std::span<const stagger_job> jobs) {
    stagger_report report;
    report.hyperperiod = hyperperiod_of(jobs);
    if (std::is_constant_evaluated()) {
        detail::count_pairs_directly(jobs, report);
        if (report.hyperperiod != 0) detail::peak_at_starts(jobs, report);
    } else {
        detail::count_pairs_by_period(jobs, report);
        if (report.hyperperiod == 0) return report;
        const auto load = load_over(jobs, report.hyperperiod);
        const auto busiest = std::max_element(load.begin(), load.end());
        report.peak = *busiest;
        report.peak_at = static_cast<std::uint64_t>(busiest - load.begin());
    }
    return report;
}

/// Every second of the hyperperiod at which check(jobs).peak jobs run, in order, up to
/// `limit` of them; empty when the hyperperiod is too long to check. Run time only.
inline std::vector<std::uint64_t> peak_instants(std::span<const stagger_job> jobs, std::size_t limit = 100) {
    const auto hyperperiod = hyperperiod_of(jobs);
    std::vector<std::uint64_t> instants;
    if (hyperperiod == 0) return instants;
    const auto load = load_over(jobs, hyperperiod);
    const auto peak = *std::max_element(load.begin(), load.end());
    for (std::uint64_t second = 0; second < hyperperiod && instants.size() < limit; ++second) {
        if (load[second] == peak) instants.push_back(second);
    }
    return instants;
}

namespace detail {
/// Comparing pointers into two different string literals is not a constant expression,
/// and both GCC and Clang quote the literals when they say so: the job names.
constexpr bool jobs_collide(const char* first_job, const char* second_job) { return first_job < second_job; }
}  // namespace detail

/// For static_assert: true when no two jobs of the table ever run in the same second.
/// Otherwise the program does not compile, and the compiler's message quotes the
/// first two colliding jobs' names, e.g.
///     '((const char*)"referral_tier2") < ((const char*)"badge_unlock")' is not a constant expression
/// Names must be string literals (or otherwise null-terminated) for the message.
consteval bool no_collisions(std::span<const stagger_job> jobs) {
    const auto report = check(jobs);
    if (report.collisions == 0) return true;
    return detail::jobs_collide(jobs[report.first].name.data(), jobs[report.second].name.data());
}

}  // namespace sked
