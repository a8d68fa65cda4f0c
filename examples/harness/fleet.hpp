// examples/harness/fleet.hpp — N replicas of one service in one process, in virtual or
// real time. Not part of what a user copies (examples/harness/README.md).
//
// An example's main() says what one replica of its service does at boot: make a
// scheduler, add the job, run it (a sked::runner). The fleet calls that `serve`
// function once per replica, each on a thread of its own as if in a process of its
// own, and hands it a `replica`: the shared backend (one sked::memory_keys, or one
// sked::redis::keys per replica), the clock, a thread pool, the log and the audit.
//
//     auto fleet = example::open_or_exit(options);
//     fleet->run(job, [&](example::replica& r) {
//         sked::scheduler s{{.clock = r.clock(), .steady = r.steady(), .backend = r.backend(), ...}};
//         ...
//         if (r.simulated()) return r.simulate(s);      // the fleet moves virtual time
//         sked::runner runner{s};
//         r.wait_for_shutdown();
//         r.report(runner.stop(5s));
//     });
//
// In a simulation the fleet drives every replica's scheduler itself, from due time to
// due time, and stops them all for --outage.
#pragma once

#include <unistd.h>

#include <algorithm>
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

#include <sked/rfc3339.hpp>
#include <sked/runner.hpp>
#include <sked/scheduler.hpp>
#include <sked/thread_pool.hpp>
#include "http.hpp"
#ifdef SKED_EXAMPLES_WITH_REDIS
#include <sked/redis/store.hpp>
#endif
#ifdef SKED_EXAMPLES_WITH_POSTGRES
#include <sked/postgres/listener.hpp>
#include <sked/postgres/migrate.hpp>
#include <sked/postgres/store.hpp>
#endif

#include "audit.hpp"
#include "command_line.hpp"
#include "sim_clock.hpp"
#include "summary.hpp"

namespace example {

/// What a job body reports for the audit: "ok", or "fenced" when the store refused its writes.
struct outcome {
    std::string result = "ok";
    std::string detail{};
};
using job_body = std::function<outcome(const sked::job_context&)>;
using one_off_body = std::function<outcome(const sked::one_off_context&)>;

class fleet;

/// What the harness gives one replica: where its time, backend, threads and lines go.
class replica {
public:
    replica(fleet& f, std::size_t index) : fleet_(f), index_(index) {}

    [[nodiscard]] std::string name() const;
    /// 0 .. N-1, in the order of --replicas.
    [[nodiscard]] std::size_t index() const { return index_; }
    /// The simulation's clocks, or empty: the system's.
    [[nodiscard]] sked::clock_source clock() const;
    [[nodiscard]] sked::steady_source steady() const;
    /// sked::redis::keys (--redis), sked::postgres::keys (--postgres), or the
    /// sked::memory_keys every replica here shares.
    [[nodiscard]] sked::backend_ref backend() const;
#ifdef SKED_EXAMPLES_WITH_POSTGRES
    /// With --postgres, this replica's store (a job opens its run's transaction there); else null.
    [[nodiscard]] sked::postgres::keys* postgres() const;
#endif
    /// A sked::thread_pool's executor (in a simulation, one that counts sleeping jobs).
    [[nodiscard]] sked::executor_function executor() const;
    /// Where sked::log_lines writes: --log, standard error, or nowhere with --quiet.
    [[nodiscard]] std::function<void(std::string_view)> log() const;
    /// The scheduler's hooks: its log lines, and with --http the dashboard's run history.
    [[nodiscard]] std::vector<sked::event_hook> hooks();
    /// With --http (real time): serves this replica's endpoints until the result goes,
    /// on port PORT + index; refuses the replica when it cannot listen. Else nothing.
    [[nodiscard]] std::unique_ptr<http_service> serve_http(sked::scheduler& s);
    /// True when the backend tells a replica of one-offs others store (--postgres), so
    /// polling is only the fallback.
    [[nodiscard]] bool hears_of_one_offs() const;
    /// With --postgres: a sked::postgres::one_off_listener that wakes `s` for one-offs
    /// other replicas store, until the result goes. Else nothing.
    [[nodiscard]] std::shared_ptr<void> listen(sked::scheduler& s) const;
    /// `body` as a sked::job_function that appends one audit line per execution.
    [[nodiscard]] sked::job_function audited(job_body body) const;
    /// `body` as a sked::one_off_function that appends one audit line per attempt.
    [[nodiscard]] sked::one_off_function audited(one_off_body body) const;

    [[nodiscard]] bool simulated() const;
    /// Simulation: the fleet drives `s` in virtual time; returns when this replica stops
    /// (an outage, or the end of the run).
    void simulate(sked::scheduler& s);
    /// Real time: returns at the end of --run, or on SIGINT/SIGTERM.
    void wait_for_shutdown();
    /// Prints the runs a graceful stop left unfinished.
    void report(const sked::shutdown_report& stopped) const;
    /// The replica could not start: add() refused the job for this reason.
    void refused(std::string why);

private:
    friend class fleet;
    fleet& fleet_;
    std::size_t index_;
    bool entered_simulation_ = false;
#ifdef SKED_EXAMPLES_WITH_HTTP
    sked::http::run_history history_;
#endif
};

namespace detail {
inline std::atomic<bool> interrupted{false};
extern "C" inline void on_signal(int) { interrupted = true; }
}  // namespace detail

class fleet {
public:
    using serve_function = std::function<void(replica&)>;

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
        if (log_ != nullptr && log_ != stderr) std::fclose(log_);
    }

    [[nodiscard]] const options& settings() const { return options_; }
    [[nodiscard]] sked::instant now() const { return sim_ ? sim_->now() : sked::system_now(); }

    /// Work that takes time: virtual time in a simulation. False when the run was asked to stop.
    bool spend(const sked::job_context& c, std::chrono::milliseconds how_long) { return spend(c.stop, how_long); }
    bool spend(const sked::one_off_context& c, std::chrono::milliseconds how_long) { return spend(c.stop, how_long); }
    bool spend(std::stop_token stop, std::chrono::milliseconds how_long) {
        if (sim_) {
            sim_->sleep_until(sim_->now() + how_long, stop);
        } else {
            std::mutex m;
            std::condition_variable_any never;
            std::unique_lock hold{m};
            never.wait_for(hold, stop, how_long, [] { return false; });
        }
        return !stop.stop_requested();
    }

    /// Runs `serve` on every replica: until --simulate's end, for --run, or until
    /// SIGINT/SIGTERM. The error says why a replica refused `job`.
    std::optional<std::string> run(const sked::job_spec& job, serve_function serve) {
        job_name_ = job.name;
        serve_ = std::move(serve);
        if (sim_) {
            simulate();
        } else {
            run_in_real_time();
        }
        return refusal_;
    }

    /// This process's view. Strict (misses count) unless other processes share the backend.
    [[nodiscard]] summary summarize(const sked::job_spec& job) const {
        const auto mine = audit_.all();
        return example::summarize(job, mine, from_, to_);
    }
    /// Every "ok" execution this process ran, whatever its slot.
    [[nodiscard]] std::size_t executions() const {
        const auto mine = audit_.all();
        return static_cast<std::size_t>(
            std::count_if(mine.begin(), mine.end(), [](auto& e) { return e.outcome == "ok"; }));
    }
    /// Every audit line this process wrote.
    [[nodiscard]] std::vector<execution> audit_lines() const { return audit_.all(); }
    /// False when other processes share the Redis prefix, so this process sees only its part.
    [[nodiscard]] bool sees_every_replica() const { return !options_.uses_server() || options_.prefix.empty(); }
    /// The Redis prefix or PostgreSQL schema the replicas use: --prefix, or one made for this run.
    [[nodiscard]] const std::string& shared_name() const { return shared_name_; }

    /// --check: the merged audit files of earlier runs, from their first slot to their last.
    static int check(const sked::job_spec& job, const std::vector<std::string>& files) {
        auto all = read_audit(files);
        if (!all) {
            std::fprintf(stderr, "--check: %s\n", all.error().c_str());
            return 2;
        }
        std::optional<std::chrono::sys_seconds> first, last;
        for (const auto& e : *all) {
            if (e.job != job.name || e.outcome != "ok") continue;
            first = first ? std::min(*first, e.slot) : e.slot;
            last = last ? std::max(*last, e.slot) : e.slot;
        }
        if (!first) {
            std::fprintf(stderr, "--check: no successful execution of %s in the files\n", job.name.c_str());
            return 1;
        }
        const auto s = example::summarize(job, *all, *first, *last + offset_of(job) + std::chrono::seconds{1});
        std::printf("merged audit of %zu files, %zu lines, %s to %s\n", files.size(), all->size(),
                    sked::rfc3339(*first).c_str(), sked::rfc3339(*last).c_str());
        print(job.name, s);
        return s.ok() ? 0 : 1;
    }

private:
    friend class replica;

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
        memory_ = std::make_unique<sked::memory_keys>(sim_->steady_source());
    }

    std::optional<std::string> connect() {
#ifndef SKED_EXAMPLES_WITH_HTTP
        if (options_.http_host)
            return std::string("--http: this build has no HTTP support (install libboost-dev and configure again)");
#endif
        shared_name_ = options_.prefix;
        if (shared_name_.empty())  // a run of its own starts from a clean slate
            shared_name_ = "sked_example_" + std::to_string(::getpid()) + "_" + std::to_string(std::time(nullptr));
        if (options_.uses_postgres()) return connect_postgres();
        if (!options_.uses_redis()) return std::nullopt;
#ifdef SKED_EXAMPLES_WITH_REDIS
        for (std::size_t i = 0; i < options_.replicas; ++i) {
            redis_.push_back(std::make_unique<sked::redis::keys>(redis_options(shared_name_)));
            if (auto answer = redis_.back()->last_slot("probe"); !answer)
                return redis_flag() + ": " + answer.error().message();
        }
        return std::nullopt;
#else
        return std::string(options_.redis_host        ? "--redis"
                           : options_.cluster.empty() ? "--sentinel"
                                                      : "--redis-cluster") +
               ": this build has no Redis support (install libhiredis-dev and configure again)";
#endif
    }

    // --postgres: the schema migrated (every process may do it at start), a store per replica.
    std::optional<std::string> connect_postgres() {
#ifdef SKED_EXAMPLES_WITH_POSTGRES
        const sked::postgres::options settings{.url = *options_.postgres_url, .schema = shared_name_};
        if (auto migrated = sked::postgres::migrate(settings); !migrated)
            return "--postgres: " + migrated.error().message();
        for (std::size_t i = 0; i < options_.replicas; ++i)
            postgres_.push_back(std::make_unique<sked::postgres::keys>(settings));
        return std::nullopt;
#else
        return std::string("--postgres: this build has no PostgreSQL support (install libpq-dev and configure again)");
#endif
    }

#ifdef SKED_EXAMPLES_WITH_REDIS
    [[nodiscard]] sked::redis::options redis_options(std::string prefix) const {
        sked::redis::options settings{.user = options_.redis_user,
                                      .password = options_.redis_password,
                                      .prefix = std::move(prefix),
                                      .master_name = options_.master,
                                      .wait_replicas = options_.wait_replicas};
        if (options_.redis_host) {
            settings.host = *options_.redis_host;
            settings.port = options_.redis_port;
        }
        for (const auto& [host, port] : options_.sentinels)
            settings.sentinels.push_back({host, port});
        for (const auto& [host, port] : options_.cluster)
            settings.cluster.push_back({host, port});
        return settings;
    }

    // The option that named the server, for an error: "--redis HOST:PORT", "--sentinel
    // ... --master NAME" or "--redis-cluster ...".
    [[nodiscard]] std::string redis_flag() const {
        if (options_.redis_host) return "--redis " + *options_.redis_host + ":" + std::to_string(options_.redis_port);
        const bool cluster = !options_.cluster.empty();
        std::string text = cluster ? "--redis-cluster " : "--sentinel ";
        for (const auto& [host, port] : cluster ? options_.cluster : options_.sentinels)
            text += (text.back() == ' ' ? "" : ",") + host + ":" + std::to_string(port);
        return cluster ? text : text + " --master " + options_.master;
    }
#endif

    sked::backend_ref backend(std::size_t index) {
#ifdef SKED_EXAMPLES_WITH_REDIS
        if (!redis_.empty()) return sked::backend_ref{*redis_[index]};
#endif
#ifdef SKED_EXAMPLES_WITH_POSTGRES
        if (!postgres_.empty()) return sked::backend_ref{*postgres_[index]};
#endif
        (void)index;
        return sked::backend_ref{*memory_};
    }

    void write_log(std::string_view line) {
        if (options_.quiet) return;
        const std::string stamped = "[" + sked::rfc3339_ms(now()) + "] " + std::string(line) + "\n";
        std::lock_guard hold{log_mutex_};
        std::fputs(stamped.c_str(), log_);
    }

    // What a run of a job, or of a one-off, looks like in the audit before its body runs.
    static execution begun(const sked::job_context& c, const std::string& replica) {
        return {std::string(c.job), c.nominal, replica, c.fence, "failed", {}, c.started, {}};
    }
    static execution begun(const sked::one_off_context& c, const std::string& replica) {
        return {std::string(c.kind), c.slot, replica, c.fence, "failed", {}, c.started, {}, std::string(c.key)};
    }

    /// `body` wrapped so that each run appends one audit line, also when it throws.
    template <class Context, class Body>
    std::function<void(const Context&)> audited(std::string name, Body body) {
        return [this, name = std::move(name), body = std::move(body)](const Context& c) {
            ++in_flight_;
            execution e = begun(c, name);
            try {
                auto result = body(c);
                e.outcome = std::move(result.result);
                e.detail = std::move(result.detail);
            } catch (const std::exception& failure) {
                e.detail = failure.what();
                record(std::move(e));
                throw;
            }
            record(std::move(e));
        };
    }
    void record(execution e) {
        e.finished = now();
        audit_.record(std::move(e));
        --in_flight_;
    }

    // ---- the replicas' threads ----------------------------------------------------------

    /// Starts every replica's serve(); in a simulation, returns once each has registered
    /// its scheduler (or refused the job).
    void start_replicas() {
        std::unique_lock hold{state_mutex_};
        drive_.assign(options_.replicas, nullptr);
        stopping_ = false;
        settled_ = 0;
        for (std::size_t i = 0; i < options_.replicas; ++i) {
            threads_.emplace_back([this, i] {
                replica r{*this, i};
                serve_(r);
                if (r.entered_simulation_) return;
                std::lock_guard done{state_mutex_};  // it returned without simulating: settled too
                ++settled_;
                state_changed_.notify_all();
            });
        }
        if (sim_) state_changed_.wait(hold, [&] { return settled_ == options_.replicas; });
    }

    /// Asks every replica to stop and waits for their threads.
    void stop_replicas() {
        {
            std::lock_guard hold{state_mutex_};
            stopping_ = true;
        }
        state_changed_.notify_all();
        for (auto& t : threads_)
            t.join();
        threads_.clear();
    }

    // replica::simulate: registered until the fleet stops the replicas.
    void drive_until_stopped(std::size_t index, sked::scheduler& s) {
        std::unique_lock hold{state_mutex_};
        drive_[index] = &s;
        ++settled_;
        state_changed_.notify_all();
        state_changed_.wait(hold, [&] { return stopping_; });
        drive_[index] = nullptr;
    }

    // replica::wait_for_shutdown.
    void wait_until_stopping() {
        std::unique_lock hold{state_mutex_};
        state_changed_.wait(hold, [&] { return stopping_; });
    }

    void refuse(std::string why) {
        std::lock_guard hold{state_mutex_};
        if (!refusal_) refusal_ = std::move(why);
    }
    bool some_replica_refused() {
        std::lock_guard hold{state_mutex_};
        return refusal_.has_value();
    }

    template <class Visit>
    void for_each_scheduler(Visit&& visit) {
        for (auto* s : drive_)
            if (s != nullptr) visit(*s);
    }

    // ---- virtual time -------------------------------------------------------------------

    /// Jump from one due time (or sleeping job's wakeup) to the next.
    void simulate() {
        const sked::instant start{options_.start}, end = start + *options_.simulate;
        from_ = options_.start;
        to_ = std::chrono::floor<std::chrono::seconds>(end);
        std::vector<std::pair<sked::instant, bool>> boundaries;  // (when, replicas up after it)
        for (const auto& o : options_.outages)
            boundaries.push_back({start + o.at, false}), boundaries.push_back({start + o.at + o.length, true});
        std::sort(boundaries.begin(), boundaries.end());
        start_replicas();
        bool paused = false;
        while (!some_replica_refused()) {
            std::optional<sked::instant> next = sim_->next_wake();
            for_each_scheduler([&](sked::scheduler& s) {
                if (auto w = s.next_wakeup(); w && (!next || *w < *next)) next = w;
            });
            if (!boundaries.empty() && (!next || boundaries.front().first <= *next)) {
                sim_->advance_to(boundaries.front().first);
                set_up(boundaries.front().second);
                boundaries.erase(boundaries.begin());
                continue;
            }
            if (!paused && (!next || *next >= end)) {
                // The end: no new slots, but runs still in progress finish (and renew).
                for_each_scheduler([&](sked::scheduler& s) { s.pause(job_name_); });
                paused = true;
            }
            if ((paused && in_flight_ == 0) || !next) break;
            sim_->advance_to(*next);
            for_each_scheduler([&](sked::scheduler& s) { s.run_due(*next); });
            sim_->quiet();
        }
        stop_replicas();
    }

    /// An outage begins (every replica shuts down) or ends (they start again).
    void set_up(bool up) {
        if (up) return start_replicas();
        for_each_scheduler([](sked::scheduler& s) {
            s.stop_dispatching();
            s.request_stop_all();
        });
        sim_->quiet();
        stop_replicas();
    }

    // ---- real time ----------------------------------------------------------------------

    void run_in_real_time() {
        std::signal(SIGINT, detail::on_signal);
        std::signal(SIGTERM, detail::on_signal);
        // From the first whole second on: the current second's slot starts late, or not at
        // all when that would overlap the next one (the scheduler's startup rule).
        from_ = std::chrono::ceil<std::chrono::seconds>(sked::system_now());
        start_replicas();
        const auto deadline =
            std::chrono::steady_clock::now() + options_.run_for.value_or(std::chrono::hours{24 * 365});
        while (!detail::interrupted && !some_replica_refused() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds{50});
        // Slots due in the last second may not have been dispatched everywhere yet.
        to_ = std::chrono::floor<std::chrono::seconds>(sked::system_now()) - std::chrono::seconds{1};
        stop_replicas();
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
#ifdef SKED_EXAMPLES_WITH_POSTGRES
    std::vector<std::unique_ptr<sked::postgres::keys>> postgres_;
#endif
    std::string shared_name_;
    std::string job_name_;
    serve_function serve_;
    std::atomic<int> in_flight_{0};
    std::chrono::sys_seconds from_{}, to_{};

    std::mutex state_mutex_;
    std::condition_variable state_changed_;
    std::vector<sked::scheduler*> drive_;  // by replica, while it is in simulate()
    std::size_t settled_ = 0;  // replicas that reached simulate(), or returned without it
    bool stopping_ = false;
    std::optional<std::string> refusal_;
    std::vector<std::thread> threads_;  // last: joined before the members they use go
};

// =======================================================================================
// replica
// =======================================================================================

inline std::string replica::name() const { return fleet_.options_.name + "-" + std::to_string(index_ + 1); }
inline sked::clock_source replica::clock() const { return fleet_.sim_ ? fleet_.sim_->source() : sked::clock_source{}; }
inline sked::steady_source replica::steady() const {
    return fleet_.sim_ ? fleet_.sim_->steady_source() : sked::steady_source{};
}
inline sked::backend_ref replica::backend() const { return fleet_.backend(index_); }
inline bool replica::hears_of_one_offs() const { return fleet_.options_.uses_postgres(); }
inline std::shared_ptr<void> replica::listen([[maybe_unused]] sked::scheduler& s) const {
#ifdef SKED_EXAMPLES_WITH_POSTGRES
    if (fleet_.options_.uses_postgres())
        return std::make_shared<sked::postgres::one_off_listener>(
            sked::postgres::options{.url = *fleet_.options_.postgres_url, .schema = fleet_.shared_name_}, s);
#endif
    return nullptr;
}
#ifdef SKED_EXAMPLES_WITH_POSTGRES
inline sked::postgres::keys* replica::postgres() const {
    return fleet_.postgres_.empty() ? nullptr : fleet_.postgres_[index_].get();
}
#endif
inline sked::executor_function replica::executor() const {
    return fleet_.sim_ ? fleet_.sim_->executor() : fleet_.pool_->executor();
}
inline std::function<void(std::string_view)> replica::log() const {
    return [&f = fleet_](std::string_view line) { f.write_log(line); };
}
inline sked::job_function replica::audited(job_body body) const {
    return fleet_.audited<sked::job_context>(name(), std::move(body));
}
inline sked::one_off_function replica::audited(one_off_body body) const {
    return fleet_.audited<sked::one_off_context>(name(), std::move(body));
}
inline bool replica::simulated() const { return fleet_.sim_ != nullptr; }
inline void replica::simulate(sked::scheduler& s) {
    entered_simulation_ = true;
    fleet_.drive_until_stopped(index_, s);
}
inline void replica::wait_for_shutdown() { fleet_.wait_until_stopping(); }
inline std::vector<sked::event_hook> replica::hooks() {
    std::vector<sked::event_hook> hooks{sked::log_lines(log())};
#ifdef SKED_EXAMPLES_WITH_HTTP
    if (fleet_.options_.http_host) hooks.push_back(history_.hook());
#endif
    return hooks;
}
inline std::unique_ptr<http_service> replica::serve_http([[maybe_unused]] sked::scheduler& s) {
#ifdef SKED_EXAMPLES_WITH_HTTP
    const auto& o = fleet_.options_;
    if (!o.http_host || simulated()) return nullptr;
    const auto port = o.http_port == 0 ? 0 : o.http_port + static_cast<int>(index_);
    try {
        auto service = std::make_unique<http_service>(
            s, *o.http_host, static_cast<unsigned short>(port),
            sked::http::handler_options{.token = o.http_token, .dashboard = {.history = &history_}});
        std::fprintf(stderr, "%s serves http://%s:%u/scheduler\n", name().c_str(), o.http_host->c_str(),
                     static_cast<unsigned>(service->port()));
        return service;
    } catch (const std::exception& e) {
        refused(std::string("--http: ") + e.what());
    }
#endif
    return nullptr;
}
inline void replica::refused(std::string why) { fleet_.refuse(std::move(why)); }
inline void replica::report(const sked::shutdown_report& stopped) const {
    for (const auto& u : stopped.unfinished)
        std::fprintf(stderr, "still running at shutdown: %s %s\n", u.job.c_str(), sked::rfc3339(u.slot).c_str());
}

}  // namespace example
