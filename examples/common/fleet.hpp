// examples/common/fleet.hpp — N replicas of one job on one backend, in virtual or real time.
//
// What an example does with it:
//
//     auto fleet = example::fleet::open(options);        // backend, clock, audit, log
//     fleet->run(plan, [&](const sked::job_context& c) { ...; return example::outcome{"ok", "granted 100"}; });
//     example::print(plan.name, fleet->summarize(plan));
//
// Each replica is a sked::scheduler of its own, as it would be in its own process; they
// share the backend (one memory_keys, or one Redis connection each) and the example's
// store, which stands in for the service's database.
#pragma once

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sked/log_hook.hpp>
#include <sked/memory_backend.hpp>
#include <sked/runner.hpp>
#include <sked/scheduler.hpp>
#include <sked/thread_pool.hpp>
#ifdef SKED_EXAMPLES_WITH_REDIS
#include <sked/redis/store.hpp>
#endif

#include "audit.hpp"
#include "command_line.hpp"
#include "sim_clock.hpp"
#include "summary.hpp"

namespace example {

/// What a job body reports: "ok", or "fenced" when the store refused its writes.
struct outcome {
    std::string result = "ok";
    std::string detail{};
};
using job_body = std::function<outcome(const sked::job_context&)>;

namespace detail {

inline std::atomic<bool> interrupted{false};
extern "C" inline void on_signal(int) { interrupted = true; }

}  // namespace detail

class fleet {
public:
    /// Opens the backend (and checks that Redis answers), the audit file and the log.
    static sked::result<std::unique_ptr<fleet>, std::string> open(options o) {
        std::unique_ptr<fleet> f{new fleet(std::move(o))};
        if (f->audit_.failed_to_open(f->options_.audit)) return "--audit " + *f->options_.audit + ": cannot open";
        if (f->options_.log && !f->options_.quiet) {
            f->log_ = std::fopen(f->options_.log->c_str(), "a");
            if (f->log_ == nullptr) return "--log " + *f->options_.log + ": cannot open";
            std::setvbuf(f->log_, nullptr, _IOLBF, 0);  // whole lines, at once: others read it live
        }
        if (auto problem = f->connect()) return *std::move(problem);
        return f;
    }
    fleet(const fleet&) = delete;
    fleet& operator=(const fleet&) = delete;
    ~fleet() {
        replicas_.clear();  // before the backends and the clock they use
        if (log_ != nullptr && log_ != stderr) std::fclose(log_);
    }

    [[nodiscard]] const options& settings() const { return options_; }
    [[nodiscard]] sked::instant now() const { return sim_ ? sim_->now() : sked::system_now(); }

    /// Work that takes time: virtual time in a simulation. False when the run was asked to stop.
    bool spend(const sked::job_context& c, milliseconds how_long) {
        if (sim_) {
            sim_->sleep_until(sim_->now() + how_long, c.stop);
        } else {
            std::mutex m;
            std::condition_variable_any never;
            std::unique_lock hold{m};
            never.wait_for(hold, c.stop, how_long, [] { return false; });
        }
        return !c.stop_requested();
    }

    /// Registers the job on every replica and runs it: until --simulate's end, or for
    /// --run, or until SIGINT/SIGTERM. The error says why a replica refused the job.
    std::optional<std::string> run(const job_plan& plan, job_body body) {
        plan_ = plan;
        body_ = std::move(body);
        if (auto refused = start_replicas()) return refused;
        if (sim_) {
            simulate();
        } else {
            run_in_real_time();
        }
        return std::nullopt;
    }

    /// This process's view. Strict (misses count) unless other processes share the backend.
    [[nodiscard]] summary summarize(const job_plan& plan) const {
        const auto mine = audit_.all();
        return example::summarize(plan, mine, from_, to_);
    }
    /// Every "ok" execution this process ran, whatever its slot.
    [[nodiscard]] std::size_t executions() const {
        const auto mine = audit_.all();
        return static_cast<std::size_t>(
            std::count_if(mine.begin(), mine.end(), [](auto& e) { return e.outcome == "ok"; }));
    }
    /// False when other processes share the Redis prefix, so this process sees only its part.
    [[nodiscard]] bool sees_every_replica() const { return !options_.redis_host || options_.prefix.empty(); }

    /// --check: the merged audit files of earlier runs, from their first slot to their last.
    static int check(const job_plan& plan, const std::vector<std::string>& files) {
        auto all = read_audit(files);
        if (!all) {
            std::fprintf(stderr, "--check: %s\n", all.error().c_str());
            return 2;
        }
        std::optional<std::chrono::sys_seconds> first, last;
        for (const auto& e : *all) {
            if (e.job != plan.name || e.outcome != "ok") continue;
            first = first ? std::min(*first, e.slot) : e.slot;
            last = last ? std::max(*last, e.slot) : e.slot;
        }
        if (!first) {
            std::fprintf(stderr, "--check: no successful execution of %s in the files\n", plan.name.c_str());
            return 1;
        }
        const auto s = example::summarize(plan, *all, *first, *last + plan.offset() + std::chrono::seconds{1});
        std::printf("merged audit of %zu files, %zu lines, %s to %s\n", files.size(), all->size(),
                    sked::rfc3339(*first).c_str(), sked::rfc3339(*last).c_str());
        print(plan.name, s);
        return s.ok() ? 0 : 1;
    }

private:
    explicit fleet(options o) : options_(std::move(o)), audit_(options_.audit) {
        // A thread per job that may sleep at once (one per replica), and room to spare.
        const std::size_t threads = 2 * options_.replicas + 2;
        if (!options_.simulate) {
            pool_ = std::make_unique<sked::thread_pool>(threads);
            memory_ = std::make_unique<sked::memory_keys>();
            return;
        }
        sim_ = std::make_unique<sim_clock>(sked::instant{options_.start}, threads);
        // Leases expire in virtual time too, so a renewal that is late in virtual time is late.
        memory_ = std::make_unique<sked::memory_keys>([clock = sim_.get()] {
            return sked::lease_clock::time_point{
                std::chrono::duration_cast<sked::lease_clock::duration>(clock->now().time_since_epoch())};
        });
    }

    std::optional<std::string> connect() {
        if (!options_.redis_host) return std::nullopt;
#ifdef SKED_EXAMPLES_WITH_REDIS
        std::string prefix = options_.prefix;
        if (prefix.empty())  // a simulation starts from a clean slate each time
            prefix = "sked-example-" + std::to_string(::getpid()) + "-" + std::to_string(std::time(nullptr));
        for (std::size_t i = 0; i < options_.replicas; ++i) {
            redis_.push_back(std::make_unique<sked::redis::keys>(
                sked::redis::options{.host = *options_.redis_host, .port = options_.redis_port, .prefix = prefix}));
            if (auto answer = redis_.back()->last_slot("probe"); !answer)
                return "--redis " + *options_.redis_host + ":" + std::to_string(options_.redis_port) + ": " +
                       answer.error().message();
        }
        return std::nullopt;
#else
        return std::string("--redis: this build has no Redis support (install libhiredis-dev and configure again)");
#endif
    }

    sked::backend_ref backend(std::size_t replica) {
#ifdef SKED_EXAMPLES_WITH_REDIS
        if (!redis_.empty()) return sked::backend_ref{*redis_[replica]};
#endif
        (void)replica;
        return sked::backend_ref{*memory_};
    }

    std::string replica_name(std::size_t i) const { return options_.name + "-" + std::to_string(i + 1); }

    std::optional<std::string> start_replicas() {
        for (std::size_t i = 0; i < options_.replicas; ++i) {
            auto s = std::make_unique<sked::scheduler>(sked::scheduler_options{
                .clock = sim_ ? sim_->source() : sked::clock_source{},
                .backend = backend(i),
                .replica = replica_name(i),
                .executor = sim_ ? sim_->executor() : pool_->executor(),
                .hooks = {[this](const sked::event& e) { log(e); }},
            });
            auto added = s->add({plan_.name, plan_.schedule, audited(replica_name(i)), plan_.options});
            if (!added) return added.error().message;
            replicas_.push_back(std::move(s));
        }
        return std::nullopt;
    }

    /// The job as registered: the example's body, with its execution written to the audit.
    sked::job_function audited(std::string replica) {
        return [this, replica = std::move(replica)](const sked::job_context& c) {
            ++in_flight_;
            execution e{std::string(c.job), c.nominal, replica, c.fence, "failed", {}, c.started, {}};
            try {
                auto result = body_(c);
                e.outcome = std::move(result.result);
                e.detail = std::move(result.detail);
            } catch (const std::exception& failure) {
                e.detail = failure.what();
                finish(std::move(e));
                throw;
            }
            finish(std::move(e));
        };
    }
    void finish(execution e) {
        e.finished = now();
        audit_.record(std::move(e));
        --in_flight_;
    }

    void log(const sked::event& e) {
        if (options_.quiet) return;
        const std::string line = "[" + sked::rfc3339_ms(e.at) + "] " + sked::log_line(e) + "\n";
        std::lock_guard hold{log_mutex_};
        std::fputs(line.c_str(), log_);
    }

    /// Virtual time: jump from one due time (or sleeping job's wakeup) to the next.
    void simulate() {
        const sked::instant start{options_.start}, end = start + *options_.simulate;
        from_ = options_.start;
        to_ = std::chrono::floor<std::chrono::seconds>(end);
        std::vector<std::pair<sked::instant, bool>> boundaries;  // (when, replicas up after it)
        for (const auto& o : options_.outages)
            boundaries.push_back({start + o.at, false}), boundaries.push_back({start + o.at + o.length, true});
        std::sort(boundaries.begin(), boundaries.end());
        bool paused = false;
        for (;;) {
            std::optional<sked::instant> next = sim_->next_wake();
            for (const auto& r : replicas_)
                if (auto w = r->next_wakeup(); w && (!next || *w < *next)) next = w;
            if (!boundaries.empty() && (!next || boundaries.front().first <= *next)) {
                sim_->advance_to(boundaries.front().first);
                set_up(boundaries.front().second);
                boundaries.erase(boundaries.begin());
                continue;
            }
            if (!paused && (!next || *next >= end)) {
                // The end: no new slots, but runs still in progress finish (and renew).
                for (const auto& r : replicas_)
                    r->pause(plan_.name);
                paused = true;
            }
            if (paused && in_flight_ == 0) break;
            if (!next) break;
            sim_->advance_to(*next);
            for (const auto& r : replicas_)
                r->run_due(*next);
            sim_->quiet();
        }
    }

    /// An outage begins (every replica shuts down) or ends (they start again).
    void set_up(bool up) {
        if (up) {
            if (auto refused = start_replicas()) std::fprintf(stderr, "restart: %s\n", refused->c_str());
            return;
        }
        for (const auto& r : replicas_) {
            r->stop_dispatching();
            r->request_stop_all();
        }
        sim_->quiet();
        replicas_.clear();
    }

    void run_in_real_time() {
        std::signal(SIGINT, detail::on_signal);
        std::signal(SIGTERM, detail::on_signal);
        from_ = std::chrono::floor<std::chrono::seconds>(sked::system_now());
        std::vector<std::unique_ptr<sked::runner>> runners;
        for (const auto& r : replicas_)
            runners.push_back(std::make_unique<sked::runner>(*r));
        const auto deadline =
            std::chrono::steady_clock::now() + options_.run_for.value_or(std::chrono::hours{24 * 365});
        while (!detail::interrupted && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds{50});
        // Slots due in the last second may not have been dispatched everywhere yet.
        to_ = std::chrono::floor<std::chrono::seconds>(sked::system_now()) - std::chrono::seconds{1};
        for (const auto& r : runners) {
            const auto report = r->stop(std::chrono::seconds{5});
            for (const auto& u : report.unfinished)
                std::fprintf(stderr, "still running at shutdown: %s %s\n", u.job.c_str(),
                             sked::rfc3339(u.slot).c_str());
        }
    }

    options options_;
    audit_log audit_;
    std::FILE* log_ = stderr;
    std::mutex log_mutex_;
    std::unique_ptr<sim_clock> sim_;
    std::unique_ptr<sked::thread_pool> pool_;
    std::unique_ptr<sked::memory_keys> memory_;
#ifdef SKED_EXAMPLES_WITH_REDIS
    std::vector<std::unique_ptr<sked::redis::keys>> redis_;
#endif
    job_plan plan_{"", sked::schedule::every(std::chrono::seconds{1})};
    job_body body_;
    std::atomic<int> in_flight_{0};
    std::chrono::sys_seconds from_{}, to_{};
    std::vector<std::unique_ptr<sked::scheduler>> replicas_;  // last: destroyed first
};

}  // namespace example
