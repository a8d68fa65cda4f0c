// sked/http/run_history.hpp — the recent ends of each job's runs, for the dashboard's
// timeline. An event hook: register it with the scheduler.
//
//     sked::http::run_history history;                 // the last hour, per job
//     sked::scheduler s{{.hooks = {history.hook()}}};
//     sked::http::server web{io.get_executor(), s, {.history = &history}};
//
// Only the standard library. Each job keeps at most `per_job` marks (the oldest go
// first), and marks older than `keep` are dropped as new ones come.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <sked/clock.hpp>
#include <sked/event.hpp>

namespace sked::http {

/// One run's end (succeeded, failed, timed_out) or one skipped slot.
struct run_mark {
    instant at;  ///< when it ended (or was skipped), on the scheduler's clock
    std::chrono::milliseconds duration{0};
    event_kind kind = event_kind::succeeded;
    skip_reason reason = skip_reason::none;
};

class run_history {
public:
    explicit run_history(std::chrono::minutes keep = std::chrono::minutes{60}, std::size_t per_job = 512)
        : state_(std::make_shared<state>(keep, per_job)) {}

    /// The hook that records the marks; it shares the history, so it may outlive this object.
    [[nodiscard]] event_hook hook() const {
        return [st = state_](const event& e) { st->record(e); };
    }

    /// The job's marks at or after `since`, oldest first.
    [[nodiscard]] std::vector<run_mark> of(std::string_view job, instant since) const {
        std::lock_guard hold{state_->mutex};
        const auto found = state_->jobs.find(job);
        std::vector<run_mark> out;
        if (found == state_->jobs.end()) return out;
        for (const auto& m : found->second)
            if (m.at >= since) out.push_back(m);
        return out;
    }

private:
    struct state {
        state(std::chrono::minutes k, std::size_t n) : keep(k), per_job(n) {}
        std::chrono::minutes keep;
        std::size_t per_job;
        std::mutex mutex;
        std::map<std::string, std::deque<run_mark>, std::less<>> jobs;

        void record(const event& e) {
            const bool ended = e.kind == event_kind::succeeded || e.kind == event_kind::failed ||
                               e.kind == event_kind::timed_out || e.kind == event_kind::skipped;
            if (!ended || !e.key.empty()) return;  // scheduled jobs only, not one-off kinds
            std::lock_guard hold{mutex};
            auto found = jobs.find(e.job);
            if (found == jobs.end()) found = jobs.emplace(std::string{e.job}, std::deque<run_mark>{}).first;
            auto& marks = found->second;
            marks.push_back({e.at, e.duration, e.kind, e.reason});
            while (marks.size() > per_job || (!marks.empty() && marks.front().at < e.at - keep))
                marks.pop_front();
        }
    };
    std::shared_ptr<state> state_;
};

}  // namespace sked::http
