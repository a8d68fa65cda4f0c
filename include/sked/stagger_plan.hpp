// sked/stagger_plan.hpp — assign offsets to a job table so few jobs run at once.
//
//     auto planned = sked::plan(jobs);                 // offsets anywhere in each period
//     auto early = sked::plan(jobs, {.window = 50});   // only within the first 50 s
//     planned->peak, planned->peak_unstaggered, planned->lower_bound
//
// The planner is greedy and deterministic (integer arithmetic, a total order on jobs),
// so every replica and platform computes the same offsets from the same table:
//   1. pinned jobs keep their offsets;
//   2. the others are placed shortest period first (then longest duration, then name),
//      each at the offset whose run windows meet the fewest running jobs so far;
//   3. among equally good offsets the first in a spreading order wins (0, p/2, p/4,
//      3p/4, ...), so four 60 s jobs land on :00 :30 :15 :45, not :00 :01 :02 :03.
// With periods that divide each other, unit durations and room for everyone, step 2
// always finds a free second, so the plan reaches the lower bound of 1.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <map>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "detail/concat.hpp"
#include "result.hpp"
#include "stagger.hpp"

namespace sked {

struct plan_options {
    /// Offsets only in [0, window) seconds (and within the period); 0: anywhere.
    std::uint32_t window = 0;
};

struct stagger_plan {
    std::vector<stagger_job> jobs;  ///< the input, in its order, with planned offsets
    std::uint32_t peak = 0;  ///< the most jobs running at once with these offsets
    std::uint32_t peak_unstaggered = 0;  ///< the same with every unpinned offset 0
    /// No plan can do better: the pinned jobs' own peak, and for each period q the
    /// busy seconds of the jobs whose periods divide q, spread over q.
    std::uint32_t lower_bound = 0;
    std::size_t moved = 0;  ///< unpinned jobs whose offset differs from the input's
};

struct plan_error {
    std::string reason;
    friend bool operator==(const plan_error&, const plan_error&) = default;
};

/// Planning keeps a load count per second of the hyperperiod; longer ones (about 194
/// days) are refused.
inline constexpr std::uint64_t max_planned_hyperperiod = max_hyperperiod;

namespace detail {

/// How many jobs run in each second of the hyperperiod. A job of period p runs in the
/// same seconds of every period, so it is counted in one array per period (O(duration)
/// per job); the arrays are spread over the hyperperiod only when a fold needs them.
class load_timeline {
public:
    explicit load_timeline(std::uint64_t hyperperiod) : load_(hyperperiod, 0) {}

    void add(const stagger_job& job) {
        auto& counts = pending_[job.period];
        if (counts.empty()) counts.assign(job.period, 0);
        for (std::uint32_t s = 0; s < job.duration; ++s)
            ++counts[(job.offset % job.period + s) % job.period];
    }

    /// The load folded onto one period: for each second y of it, the most jobs running
    /// in any second y + k·period. A job of that period at offset o meets the maximum of
    /// this over [o, o + duration). Adding jobs of that period only (and nothing else)
    /// raises it by one in each of their seconds, which the caller does.
    [[nodiscard]] std::vector<std::uint32_t> folded(std::uint32_t period) {
        spread_pending();
        std::vector<std::uint32_t> out(period, 0);
        for (std::uint64_t second = 0; second < load_.size(); ++second) {
            auto& most = out[second % period];
            most = std::max(most, load_[second]);
        }
        return out;
    }

private:
    void spread_pending() {
        for (const auto& [period, counts] : pending_)
            for (std::uint64_t second = 0; second < load_.size(); ++second)
                load_[second] += counts[second % period];
        pending_.clear();
    }

    std::vector<std::uint32_t> load_;
    std::map<std::uint32_t, std::vector<std::uint32_t>> pending_;  // by period, not yet in load_
};

/// Every offset in [0, limit) once, spread out: the bit-reversal order of [0, 2^m),
/// scaled down to [0, limit).
inline std::vector<std::uint32_t> spreading_order(std::uint32_t limit) {
    const unsigned bits = static_cast<unsigned>(std::bit_width(limit - 1u));
    const std::uint64_t size = std::uint64_t{1} << bits;
    std::vector<bool> seen(limit, false);
    std::vector<std::uint32_t> order;
    order.reserve(limit);
    for (std::uint64_t k = 0; k < size; ++k) {
        std::uint64_t reversed = 0;
        for (unsigned b = 0; b < bits; ++b)
            reversed |= ((k >> b) & 1u) << (bits - 1 - b);
        const auto offset = static_cast<std::uint32_t>(reversed * limit / size);
        if (!seen[offset]) {
            seen[offset] = true;
            order.push_back(offset);
        }
    }
    return order;
}

inline std::uint32_t peak_of(std::span<const stagger_job> jobs, std::uint64_t hyperperiod) {
    if (jobs.empty()) return 0;
    const auto load = load_over(jobs, hyperperiod);
    return *std::max_element(load.begin(), load.end());
}

inline std::uint32_t lower_bound_of(std::span<const stagger_job> jobs, std::uint64_t hyperperiod) {
    std::vector<stagger_job> pinned;
    std::map<std::uint64_t, std::uint64_t> busy_per_period;  // busy seconds in one period, by period
    for (const auto& job : jobs) {
        if (job.pinned) pinned.push_back(job);
        busy_per_period[job.period] += job.duration;
    }
    std::uint32_t bound = std::max<std::uint32_t>(peak_of(pinned, hyperperiod), jobs.empty() ? 0 : 1);
    for (const auto& outer : busy_per_period) {
        const std::uint64_t q = outer.first;
        std::uint64_t busy = 0;
        for (const auto& [period, busy_seconds] : busy_per_period) {
            if (q % period == 0) busy += busy_seconds * (q / period);
        }
        bound = std::max(bound, static_cast<std::uint32_t>((busy + q - 1) / q));
    }
    return bound;
}

inline bool placed_before(const stagger_job& a, const stagger_job& b) {
    if (a.period != b.period) return a.period < b.period;
    if (a.duration != b.duration) return a.duration > b.duration;
    return a.name < b.name;
}

/// The offset the planner picks for each job of one period and duration, kept up to date
/// as jobs are added: the fewest running jobs met (the folded load's maximum over the
/// run's seconds), then the earliest in the spreading order. A tournament tree over the
/// offsets [0, limit) answers in O(1); adding a job changes the folded load in its own
/// `duration` seconds, so only the 2·duration - 1 offsets whose runs overlap them are
/// looked at again. Same choice as trying every offset in spreading order, without the
/// O(limit · hyperperiod / period · duration) scan per job.
class offset_chooser {
public:
    offset_chooser(const std::vector<std::uint32_t>& folded, std::uint32_t duration, std::uint32_t limit)
        : folded_(folded),
          period_(static_cast<std::uint32_t>(folded.size())),
          duration_(duration),
          order_(spreading_order(limit)),
          rank_(limit),
          leaves_(std::bit_ceil(std::uint64_t{limit})),
          tree_(2 * leaves_, UINT64_MAX) {
        for (std::uint32_t r = 0; r < limit; ++r)
            rank_[order_[r]] = r;
        for_each_busiest(0, period_, [&](std::uint32_t offset, std::uint32_t busiest) {
            if (offset < rank_.size()) tree_[leaves_ + offset] = key(offset, busiest);
        });
        for (auto node = leaves_ - 1; node >= 1; --node)
            tree_[node] = std::min(tree_[2 * node], tree_[2 * node + 1]);
    }

    [[nodiscard]] std::uint32_t best() const { return order_[static_cast<std::uint32_t>(tree_[1])]; }

    /// A job of this period was added at `offset`: the folded load changed in its seconds.
    void added_at(std::uint32_t offset) {
        const std::uint64_t touched = 2 * std::uint64_t{duration_} - 1;
        if (touched >= period_) return for_each_busiest(0, period_, [&](auto o, auto b) { set(o, b); });
        for_each_busiest(offset + period_ - (duration_ - 1), static_cast<std::uint32_t>(touched),
                         [&](auto o, auto b) { set(o, b); });
    }

private:
    // (busiest, rank): the smaller key is the better offset.
    [[nodiscard]] std::uint64_t key(std::uint32_t offset, std::uint32_t busiest) const {
        return std::uint64_t{busiest} << 32 | rank_[offset];
    }

    void set(std::uint32_t offset, std::uint32_t busiest) {
        if (offset >= rank_.size()) return;
        auto node = leaves_ + offset;
        tree_[node] = key(offset, busiest);
        for (node /= 2; node >= 1; node /= 2)
            tree_[node] = std::min(tree_[2 * node], tree_[2 * node + 1]);
    }

    // For the `count` offsets from `first` (modulo the period), the folded load's maximum
    // over [offset, offset + duration): a sliding-window maximum, O(count + duration).
    template <class Visit>
    void for_each_busiest(std::uint64_t first, std::uint32_t count, Visit visit) const {
        window_.clear();
        std::size_t front = 0;
        const std::uint64_t end = first + count + duration_ - 1;
        for (std::uint64_t t = first; t < end; ++t) {
            const std::uint32_t load = folded_[t % period_];
            while (window_.size() > front && window_.back().second <= load)
                window_.pop_back();
            window_.emplace_back(t, load);
            if (t + 1 < first + duration_) continue;
            const std::uint64_t offset = t + 1 - duration_;
            while (window_[front].first < offset)
                ++front;
            visit(static_cast<std::uint32_t>(offset % period_), window_[front].second);
        }
    }

    const std::vector<std::uint32_t>& folded_;
    std::uint32_t period_;
    std::uint32_t duration_;
    std::vector<std::uint32_t> order_;  // the spreading order of [0, limit)
    std::vector<std::uint32_t> rank_;  // each offset's place in it
    std::uint64_t leaves_;
    std::vector<std::uint64_t> tree_;  // tree_[1] is the best key; leaves from tree_[leaves_]
    mutable std::vector<std::pair<std::uint64_t, std::uint32_t>> window_;  // (second, load), loads falling
};

/// Places the jobs marked in `free` (the others stay where they are). The jobs are
/// placed in placed_before() order, so those of one period, and of one duration within
/// it, come one after the other: the load is folded once per period and an
/// offset_chooser is built once per (period, duration).
inline void place(std::vector<stagger_job>& jobs, const std::vector<bool>& free, std::uint64_t hyperperiod,
                  const plan_options& options) {
    load_timeline timeline{hyperperiod};
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        if (free[i]) {
            order.push_back(i);
        } else {
            timeline.add(jobs[i]);
        }
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return placed_before(jobs[a], jobs[b]); });
    std::vector<std::uint32_t> folded;
    std::optional<offset_chooser> chooser;
    for (std::size_t k = 0; k < order.size(); ++k) {
        auto& job = jobs[order[k]];
        const auto* previous = k == 0 ? nullptr : &jobs[order[k - 1]];
        if (previous == nullptr || previous->period != job.period) folded = timeline.folded(job.period);
        if (previous == nullptr || previous->period != job.period || previous->duration != job.duration) {
            const std::uint32_t limit = options.window == 0 ? job.period : std::min(options.window, job.period);
            chooser.emplace(folded, job.duration, limit);
        }
        job.offset = chooser->best();
        timeline.add(job);
        for (std::uint32_t s = 0; s < job.duration; ++s)
            ++folded[(job.offset + s) % job.period];
        chooser->added_at(job.offset);
    }
}

inline std::optional<plan_error> check_plannable(std::span<const stagger_job> jobs, std::uint64_t hyperperiod) {
    for (const auto& job : jobs) {
        if (job.period == 0) return plan_error{concat({"job '", job.name, "' has a period of 0 s"})};
        if (job.duration == 0 || job.duration > job.period) {
            return plan_error{concat({"job '", job.name, "' runs ", std::to_string(job.duration),
                                      " s; it must run 1 s to its period (", std::to_string(job.period), " s)"})};
        }
        if (job.pinned && job.offset >= job.period) {
            return plan_error{concat({"job '", job.name, "' is pinned at ", std::to_string(job.offset),
                                      " s, outside its ", std::to_string(job.period), " s period"})};
        }
    }
    if (hyperperiod == 0 || hyperperiod > max_planned_hyperperiod) {
        return plan_error{concat({"the periods' least common multiple is longer than ",
                                  std::to_string(max_planned_hyperperiod), " s; use periods that divide each other"})};
    }
    return std::nullopt;
}

// `moved` counts the first `counted` jobs only (extend() does not count the added ones).
inline stagger_plan finish(std::span<const stagger_job> input, std::vector<stagger_job> jobs, std::uint64_t hyperperiod,
                           std::size_t counted) {
    stagger_plan planned;
    planned.peak = peak_of(jobs, hyperperiod);
    planned.lower_bound = lower_bound_of(jobs, hyperperiod);
    std::vector<stagger_job> unstaggered(input.begin(), input.end());
    for (auto& job : unstaggered) {
        if (!job.pinned) job.offset = 0;
    }
    planned.peak_unstaggered = peak_of(unstaggered, hyperperiod);
    for (std::size_t i = 0; i < counted; ++i) {
        planned.moved += !input[i].pinned && input[i].offset != jobs[i].offset ? 1u : 0u;
    }
    planned.jobs = std::move(jobs);
    return planned;
}

}  // namespace detail

/// Offsets for every unpinned job, minimising the peak greedily (see the top of this
/// file). `moved` counts the unpinned jobs whose offset differs from the input's.
inline result<stagger_plan, plan_error> plan(std::span<const stagger_job> jobs, const plan_options& options = {}) {
    const auto hyperperiod = hyperperiod_of(jobs);
    if (auto bad = detail::check_plannable(jobs, hyperperiod)) return *std::move(bad);
    std::vector<stagger_job> planned(jobs.begin(), jobs.end());
    std::vector<bool> free(jobs.size());
    for (std::size_t i = 0; i < jobs.size(); ++i)
        free[i] = !jobs[i].pinned;
    detail::place(planned, free, hyperperiod, options);
    return detail::finish(jobs, std::move(planned), hyperperiod, jobs.size());
}

/// Adds jobs to a table planned before (`planned` with its offsets), moving as few of
/// its jobs as possible: the new jobs are placed around the old ones, and only if
/// that peaks higher than planning everything afresh is the fresh plan taken.
/// The result lists `planned` then `added`; `moved` counts moved old jobs.
inline result<stagger_plan, plan_error> extend(std::span<const stagger_job> planned, std::span<const stagger_job> added,
                                               const plan_options& options = {}) {
    std::vector<stagger_job> all(planned.begin(), planned.end());
    all.insert(all.end(), added.begin(), added.end());
    const auto hyperperiod = hyperperiod_of(all);
    if (auto bad = detail::check_plannable(all, hyperperiod)) return *std::move(bad);
    std::vector<bool> only_added(all.size(), false), unpinned(all.size(), false);
    for (std::size_t i = 0; i < all.size(); ++i) {
        unpinned[i] = !all[i].pinned;
        only_added[i] = unpinned[i] && i >= planned.size();
    }
    std::vector<stagger_job> kept = all, fresh = all;
    detail::place(kept, only_added, hyperperiod, options);
    detail::place(fresh, unpinned, hyperperiod, options);
    const bool keep = detail::peak_of(kept, hyperperiod) <= detail::peak_of(fresh, hyperperiod);
    return detail::finish(all, std::move(keep ? kept : fresh), hyperperiod, planned.size());
}

}  // namespace sked
