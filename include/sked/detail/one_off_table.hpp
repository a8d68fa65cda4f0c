// sked/detail/one_off_table.hpp — the one-off kinds this replica handles, when each is
// next taken from the backend, and the one-off runs in flight here.
//
// The jobs themselves live in the backend, not here: a replica holds a kind's handler
// and counters, and only the jobs it has taken and runs now. The table takes no lock;
// the scheduler calls it under its own.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../clock.hpp"
#include "../one_off.hpp"

namespace sked::detail {

inline constexpr std::int64_t never_ms = std::numeric_limits<std::int64_t>::max();

struct one_off_kind {
    std::string name;
    one_off_function handler;
    one_off_options options;
    std::int64_t next_take_ms = 0;  // wall clock ms; 0: at once
    bool taking = false;  // a take is on its way, off the lock
    bool more_due = false;  // the last take filled its batch: more may be due now
    bool reports_runs = true;  // false for stored retries: their attempts report themselves
    one_off_kind_status status;
};

struct one_off_run {
    std::uint32_t kind = 0;
    taken_job job;
    std::stop_source stop;
    instant started{};
    steady_instant steady_started{};
    std::int64_t renew_at_ms = 0;  // steady clock
    bool renewing = false;
    bool lease_lost = false;
};

class one_off_table {
public:
    /// The kind's index; a kind registered again keeps its index and counters.
    std::uint32_t upsert(std::string name, one_off_function handler, one_off_options options) {
        auto index = find(name);
        if (!index) {
            index = static_cast<std::uint32_t>(kinds_.size());
            kinds_.emplace_back();
            kinds_.back().name = name;
            kinds_.back().status.kind = std::move(name);
        }
        auto& k = kinds_[*index];
        k.handler = std::move(handler);
        k.options = options;
        k.next_take_ms = 0;  // the epoch: look at once
        return *index;
    }

    [[nodiscard]] std::optional<std::uint32_t> find(std::string_view name) const {
        for (std::uint32_t i = 0; i < kinds_.size(); ++i)
            if (kinds_[i].name == name) return i;
        return std::nullopt;
    }
    one_off_kind& operator[](std::uint32_t i) { return kinds_[i]; }
    [[nodiscard]] const std::vector<one_off_kind>& kinds() const noexcept { return kinds_; }

    /// Kinds whose take is due at `wall_ms` and that have room for a run; each is marked
    /// as taking until took() or take_failed().
    std::vector<std::uint32_t> start_takes(std::int64_t wall_ms) {
        std::vector<std::uint32_t> due;
        for (std::uint32_t i = 0; i < kinds_.size(); ++i) {
            auto& k = kinds_[i];
            if (k.taking || k.next_take_ms > wall_ms || room(k) == 0) continue;
            k.taking = true;
            due.push_back(i);
        }
        return due;
    }
    /// How many more of the kind may start here now, at most a batch.
    [[nodiscard]] static std::uint32_t room(const one_off_kind& k) {
        const auto free = k.options.max_running > k.status.running ? k.options.max_running - k.status.running : 0;
        return std::min(free, k.options.batch);
    }

    /// A take answered: the next one is at the earliest pending job's time, at most
    /// `poll` from now, or at once when the batch came back full.
    void took(std::uint32_t i, std::size_t asked, const taken_batch& batch, std::int64_t wall_ms,
              std::chrono::milliseconds poll) {
        auto& k = kinds_[i];
        k.taking = false;
        k.status.queue = batch.left;
        k.more_due = batch.jobs.size() >= asked;
        std::int64_t next = wall_ms + poll.count();
        if (batch.left.next_due) next = std::min(next, batch.left.next_due->time_since_epoch().count());
        k.next_take_ms = k.more_due ? wall_ms : next;
    }
    void take_failed(std::uint32_t i, std::int64_t wall_ms, std::chrono::milliseconds poll) {
        kinds_[i].taking = false;
        kinds_[i].next_take_ms = wall_ms + poll.count();
    }
    /// A job of the kind was created here, due at `run_at`: take it then, not a poll later.
    bool created(std::string_view kind, instant run_at) {
        const auto i = find(kind);
        return i && take_by(kinds_[*i], run_at);
    }
    /// Every kind is taken by `at` (news of jobs may have been missed); true when that
    /// moved a take earlier.
    bool all_taken_by(instant at) {
        bool earlier = false;
        for (auto& k : kinds_)
            earlier = take_by(k, at) || earlier;
        return earlier;
    }

    /// The earliest take of a kind with room (wall ms), or never_ms.
    [[nodiscard]] std::int64_t next_take_ms() const {
        std::int64_t next = never_ms;
        for (const auto& k : kinds_)
            if (!k.taking && room(k) > 0) next = std::min(next, k.next_take_ms);
        return next;
    }

    // ---- runs in flight -----------------------------------------------------------------

    std::uint32_t begin(std::uint32_t kind, taken_job job, const instant& wall, const steady_instant& steady) {
        const auto id = next_run_++;
        auto& run = runs_[id];
        run.kind = kind;
        run.job = std::move(job);
        run.started = wall;
        run.steady_started = steady;
        run.renew_at_ms = steady_ms(steady) + kinds_[kind].options.lease_ttl.count() / 3;
        ++kinds_[kind].status.running;
        ++kinds_[kind].status.started;
        return id;
    }
    one_off_run* find_run(std::uint32_t id) {
        const auto found = runs_.find(id);
        return found == runs_.end() ? nullptr : &found->second;
    }
    void end(std::uint32_t id) {
        const auto found = runs_.find(id);
        if (found == runs_.end()) return;
        auto& k = kinds_[found->second.kind];
        --k.status.running;
        if (k.more_due) k.next_take_ms = 0;  // room again: look at once
        runs_.erase(found);
    }

    /// Runs whose lease is due for renewal at `now_ms` (steady); each is marked renewing.
    std::vector<std::uint32_t> start_renewals(std::int64_t now_ms) {
        std::vector<std::uint32_t> due;
        for (auto& [id, run] : runs_) {
            if (run.renewing || run.renew_at_ms > now_ms) continue;
            run.renewing = true;
            due.push_back(id);
        }
        return due;
    }
    /// The earliest renewal (steady ms), or never_ms.
    [[nodiscard]] std::int64_t next_renewal_ms() const {
        std::int64_t next = never_ms;
        for (const auto& [id, run] : runs_)
            if (!run.renewing) next = std::min(next, run.renew_at_ms);
        return next;
    }

    std::size_t stop_all() {
        for (auto& [id, run] : runs_)
            run.stop.request_stop();
        return runs_.size();
    }
    template <class Visit>
    void for_each_run(Visit&& visit) const {
        for (const auto& [id, run] : runs_)
            visit(run);
    }

    static std::int64_t steady_ms(const steady_instant& t) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    }

private:
    static bool take_by(one_off_kind& k, instant at) {
        const auto at_ms = at.time_since_epoch().count();
        if (at_ms >= k.next_take_ms) return false;
        k.next_take_ms = at_ms;
        return true;
    }

    std::vector<one_off_kind> kinds_;
    std::unordered_map<std::uint32_t, one_off_run> runs_;
    std::uint32_t next_run_ = 0;
};

}  // namespace sked::detail
