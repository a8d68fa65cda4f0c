// sked/detail/job_table.hpp — the registered jobs: their records, their names, and the
// schedules and option sets they share.
//
// A million registered jobs is a normal size (one-off timeouts per campaign node), so a
// record is small: equal schedules and equal option sets are stored once and referred
// to by index, a one-off job keeps only its instant, names are found through a table of
// 4-byte indices, and removed records are reused. The table takes no lock; the
// scheduler calls it under its own.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../job.hpp"
#include "../job_stats.hpp"
#include "../schedule.hpp"
#include "name_index.hpp"
#include "slot_policy.hpp"

namespace sked::detail {

/// A slot in a record: seconds since the epoch, or no_slot.
inline constexpr std::int64_t no_slot = std::numeric_limits<std::int64_t>::min();

constexpr std::int64_t slot_value(std::chrono::sys_seconds slot) noexcept { return slot.time_since_epoch().count(); }
constexpr std::chrono::sys_seconds as_slot(std::int64_t count) noexcept {
    return std::chrono::sys_seconds{std::chrono::seconds{count}};
}
constexpr std::optional<std::chrono::sys_seconds> slot_or_none(std::int64_t slot) noexcept {
    if (slot == no_slot) return std::nullopt;
    return as_slot(slot);
}

/// Where a job's slots come from: an interned schedule, or the instant of a one-off job
/// (which would otherwise cost a 240-byte sked::schedule of its own). A record keeps it
/// in 8 bytes and a flag.
class slot_source {
public:
    static constexpr slot_source shared(std::uint32_t index) noexcept { return slot_source{index, false}; }
    static constexpr slot_source one_off(std::chrono::sys_seconds at) noexcept {
        return slot_source{slot_value(at), true};
    }
    [[nodiscard]] constexpr bool is_one_off() const noexcept { return one_off_; }
    [[nodiscard]] constexpr std::int64_t value() const noexcept { return value_; }
    friend constexpr bool operator==(const slot_source&, const slot_source&) noexcept = default;

private:
    constexpr slot_source(std::int64_t value, bool one_off) noexcept : value_(value), one_off_(one_off) {}
    std::int64_t value_ = 0;
    bool one_off_ = false;
};

/// A job's schedule as a sked::schedule either way: the shared one, or a one-off's
/// schedule::once made on the spot. Returned by value, never copied.
class schedule_view {
public:
    explicit schedule_view(const schedule& shared) noexcept : shared_(&shared) {}
    explicit schedule_view(std::chrono::sys_seconds once) : own_(schedule::once(once)) {}
    schedule_view(const schedule_view&) = delete;
    schedule_view& operator=(const schedule_view&) = delete;

    const schedule& operator*() const noexcept { return own_ ? *own_ : *shared_; }
    const schedule* operator->() const noexcept { return &**this; }

private:
    const schedule* shared_ = nullptr;
    std::optional<schedule> own_;
};

struct job_record {
    // waiting: a slot is queued (overlap::queue_one); one_off: `slots` is an instant;
    // unstaggered: the job's stagger switch is off (scheduler::set_stagger)
    enum flag : std::uint8_t { live = 1, paused = 2, waiting = 4, one_off = 8, unstaggered = 16 };

    std::string name{};
    job_function run{};
    std::unique_ptr<job_stats> stats{};  // allocated at the first event
    std::int64_t next_slot = no_slot;  // the slot of the job's fire entry in the due queue
    std::int64_t last_handled = no_slot;  // latest slot run or skipped here, or recorded by the backend
    std::uint32_t options = 0;  // index of the job's option set
    std::int32_t offset_s = 0;  // start_offset(), in seconds
    std::int64_t slots = 0;  // see job_table::slots_of()
    std::uint16_t generation = 0;  // moves when a fire entry of the job goes stale
    std::uint16_t running = 0;  // runs in flight here
    std::uint16_t claiming_again = 0;  // of `running`: rechecks and claim retries not answered yet
    std::uint16_t lease_waits = 0;  // slots here waiting for the job's lease (the serial modes)
    std::uint8_t flags = 0;

    [[nodiscard]] bool has(flag f) const noexcept { return (flags & f) != 0; }
    job_stats& stats_or_new() {
        if (!stats) stats = std::make_unique<job_stats>();
        return *stats;
    }
    void set(flag f, bool on) noexcept { flags = static_cast<std::uint8_t>(on ? flags | f : flags & ~f); }
};

class job_table {
public:
    using id = std::uint32_t;
    static constexpr id none = name_index::none;

    [[nodiscard]] id find(std::string_view name) const { return index_.find(name, name_of()); }
    job_record& operator[](id j) { return jobs_[j]; }
    const job_record& operator[](id j) const { return jobs_[j]; }
    /// Registered jobs (removed ones whose last run is still going are not counted).
    [[nodiscard]] std::size_t size() const noexcept { return live_; }

    /// What upsert() did: added a job, or replaced one; and whether its timing changed.
    struct upserted {
        id job;
        bool added;
        bool timing_changed;  ///< its old fire entry is stale: schedule the job afresh
    };
    /// Registers `spec` (already validated), or replaces the job of that name. `recorded`
    /// is the latest slot the backend recorded as handled for it, or no_slot. A replaced
    /// job keeps its timing (and its next slot) when schedule, offset, jitter and
    /// calendar are unchanged; otherwise its fire entry goes stale and a queued slot is
    /// dropped.
    upserted upsert(job_spec&& spec, std::int64_t recorded) {
        const auto slots = intern(spec.schedule);
        const auto options = intern(spec.options);
        const auto offset = static_cast<std::int32_t>(start_offset(spec.name, spec.options).count());
        auto j = find(spec.name);
        const bool added = j == none;
        bool same_timing = false;
        if (added) {
            j = insert(std::move(spec.name), recorded);
        } else {
            auto& job = jobs_[j];
            const auto& was = options_of(job);
            same_timing = slots_of(job) == slots && job.offset_s == offset &&
                          was.max_jitter == spec.options.max_jitter && was.calendar == spec.options.calendar;
            job.last_handled = std::max(job.last_handled, recorded);
        }
        auto& job = jobs_[j];
        job.run = std::move(spec.run);
        job.slots = slots.value();
        job.set(job_record::one_off, slots.is_one_off());
        job.options = options;
        job.offset_s = offset;
        if (!same_timing) {
            ++job.generation;
            job.lease_waits = 0;  // their deferred attempts went stale with the generation
            (void)take_queued_slot(j);
        }
        return {j, added, !same_timing};
    }

    /// Unregisters the job; its record is freed now, or by release() after its last run.
    void remove(id j) {
        auto& job = jobs_[j];
        index_.erase(job.name, name_of());
        ++job.generation;
        job.lease_waits = 0;
        job.flags = 0;
        job.next_slot = no_slot;
        queued_.erase(j);
        --live_;
        release(j);
    }
    /// Frees the record of a removed job that no longer runs; false if it is still in use.
    bool release(id j) {
        if (jobs_[j].has(job_record::live) || jobs_[j].running != 0) return false;
        free_record(j);
        return true;
    }

    [[nodiscard]] schedule_view schedule_of(const job_record& job) const {
        if (job.has(job_record::one_off)) return schedule_view{as_slot(job.slots)};
        return schedule_view{*schedules_[static_cast<std::size_t>(job.slots)]};
    }
    /// The job's options; the reference stays valid for the table's life.
    [[nodiscard]] const job_options& options_of(const job_record& job) const { return *options_[job.options]; }
    /// How the job's slots become start times: at the slot itself while stagger is off
    /// for all jobs or for this one.
    [[nodiscard]] start_rule start_rule_of(const job_record& job) const {
        if (!staggered(job)) return {job.name, {}, {}};
        return {job.name, std::chrono::seconds{job.offset_s}, options_of(job).max_jitter};
    }
    /// Stagger (offset and jitter) on or off for every job; each job's own switch stays.
    void set_stagger(bool on) noexcept { stagger_ = on; }
    [[nodiscard]] bool stagger() const noexcept { return stagger_; }
    /// Whether the job's start times are staggered now: both switches on.
    [[nodiscard]] bool staggered(const job_record& job) const noexcept {
        return stagger_ && !job.has(job_record::unstaggered);
    }
    /// Whether a stagger switch moves the job's start times: it has an offset or jitter.
    [[nodiscard]] bool has_stagger(const job_record& job) const {
        return job.offset_s != 0 || options_of(job).max_jitter.count() > 0;
    }
    /// The job's line in scheduler::status().
    [[nodiscard]] job_status status_of(const job_record& job) const {
        const auto schedule = schedule_of(job);
        job_status js;
        js.name = job.name;
        js.schedule = schedule->describe();
        js.paused = job.has(job_record::paused);
        js.stagger = !job.has(job_record::unstaggered);
        js.grace = options_of(job).grace;
        js.running = job.running;
        if (const auto next = slot_or_none(job.next_slot)) {
            js.next_slot = next;
            js.next_run = start_rule_of(job).planned_start(*schedule, *next);
        }
        if (job.stats) js.stats = *job.stats;
        return js;
    }

    /// overlap::queue_one: `slot` waits for the job's run in progress (one at most).
    void queue_slot(id j, std::chrono::sys_seconds slot) {
        jobs_[j].set(job_record::waiting, true);
        queued_[j] = slot_value(slot);
    }
    /// The queued slot, if one was queued; it is no longer queued after this.
    std::optional<std::chrono::sys_seconds> take_queued_slot(id j) {
        if (!jobs_[j].has(job_record::waiting)) return std::nullopt;
        jobs_[j].set(job_record::waiting, false);
        const auto slot = queued_[j];
        queued_.erase(j);
        return slot_or_none(slot);
    }

    /// Calls visit(const job_record&) for each registered job, in index order.
    template <class Visit>
    void for_each_live(Visit&& visit) const {
        for (const auto& job : jobs_)
            if (job.has(job_record::live)) visit(job);
    }
    /// Calls visit(id) for each registered job, in index order.
    template <class Visit>
    void for_each_live_id(Visit&& visit) const {
        for (id j = 0; j < jobs_.size(); ++j)
            if (jobs_[j].has(job_record::live)) visit(j);
    }

private:
    /// A live record for `name`, which is not registered: a reused one or a new one.
    id insert(std::string name, std::int64_t last_handled) {
        id j = static_cast<id>(jobs_.size());
        if (free_.empty()) {
            jobs_.emplace_back();
        } else {
            j = free_.back();
            free_.pop_back();
        }
        auto& job = jobs_[j];
        job.name = std::move(name);
        job.flags = job_record::live;
        job.last_handled = last_handled;
        index_.insert(job.name, j, name_of());
        ++live_;
        return j;
    }

    /// The shared copy of `s` (a one-off job keeps only its instant).
    slot_source intern(const schedule& s) {
        if (s.type() == schedule::kind::once) return slot_source::one_off(s.at());
        const auto n = static_cast<std::uint32_t>(schedules_.size());
        if (n > 0 && *schedules_.back() == s) return slot_source::shared(n - 1);
        auto [at, inserted] = schedule_ids_.try_emplace(s.describe(), n);
        if (inserted) schedules_.push_back(std::make_shared<const schedule>(s));
        return slot_source::shared(at->second);
    }
    /// The index of the shared copy of `o`.
    std::uint32_t intern(const job_options& o) {
        // Services register many jobs with one set of options; look back a few entries.
        const std::size_t n = options_.size();
        for (std::size_t back = 1; back <= std::min<std::size_t>(n, 8); ++back) {
            if (*options_[n - back] == o) return static_cast<std::uint32_t>(n - back);
        }
        options_.push_back(std::make_shared<const job_options>(o));
        return static_cast<std::uint32_t>(n);
    }

    static slot_source slots_of(const job_record& job) noexcept {
        if (job.has(job_record::one_off)) return slot_source::one_off(as_slot(job.slots));
        return slot_source::shared(static_cast<std::uint32_t>(job.slots));
    }
    void free_record(id j) {
        jobs_[j] = job_record{.generation = jobs_[j].generation};
        free_.push_back(j);
    }

    // How the name index reads the name of a stored index.
    struct name_reader {
        const job_table* table;
        std::string_view operator()(id i) const { return table->jobs_[i].name; }
    };
    [[nodiscard]] name_reader name_of() const noexcept { return {this}; }

    std::vector<job_record> jobs_;
    std::vector<id> free_;
    std::size_t live_ = 0;
    bool stagger_ = true;  // the switch for every job
    name_index index_;
    std::vector<std::shared_ptr<const schedule>> schedules_;
    std::unordered_map<std::string, std::uint32_t> schedule_ids_;  // by describe()
    std::vector<std::shared_ptr<const job_options>> options_;
    std::unordered_map<id, std::int64_t> queued_;  // jobs with flag waiting
};

}  // namespace sked::detail
