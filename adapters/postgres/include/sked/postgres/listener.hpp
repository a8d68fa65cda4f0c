// sked/postgres/listener.hpp — one-offs another replica stores wake this one (LISTEN).
//
//     sked::scheduler scheduler{...};
//     sked::postgres::one_off_listener news{settings, scheduler};  // after the scheduler: ends first
//
// Migration 3 has the server tell every session that LISTENs on `sked_one_offs` when a
// one-off becomes pending (created, retried, put back by a replica that stopped), as its
// transaction commits. The listener keeps one connection of its own for that, on a
// thread of its own, and tells the scheduler the kind and when the job is due
// (scheduler::one_off_noticed); the scheduler takes the kind then, not a poll later.
//
// A notice sent while the listener was not connected is lost, so after each connection
// (the first, and each after the server restarted or the network failed) it tells the
// scheduler to take every kind now (scheduler::one_off_notices_missed): one poll. It
// sends `SELECT 1` every `check_every`, so a link that died without a word (a host gone,
// a server stopped) is found within check_every + command_timeout; it connects again
// after 100 ms, doubling to 5 s while the server does not answer.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

#include "sked/scheduler.hpp"

#include "connection.hpp"
#include "migrate.hpp"
#include "migrations.hpp"
#include "options.hpp"

namespace sked::postgres {
namespace detail {

struct due_notice {
    std::string_view kind;
    instant run_at;
};

/// Migration 3's payload ("<run_at ms> <bytes of schema> <schema><kind>") when it is
/// `schema`'s; nullopt for another schema's notice, or text that is not one.
inline std::optional<due_notice> due_notice_of(std::string_view payload, std::string_view schema) {
    const char* const end = payload.data() + payload.size();
    std::int64_t ms = 0;
    std::size_t schema_bytes = 0;
    auto read = std::from_chars(payload.data(), end, ms);
    if (read.ec != std::errc{} || read.ptr == end || *read.ptr != ' ') return std::nullopt;
    read = std::from_chars(read.ptr + 1, end, schema_bytes);
    if (read.ec != std::errc{} || read.ptr == end || *read.ptr != ' ') return std::nullopt;
    const std::string_view rest(read.ptr + 1, static_cast<std::size_t>(end - read.ptr - 1));
    if (rest.size() <= schema_bytes || rest.substr(0, schema_bytes) != schema) return std::nullopt;
    return due_notice{rest.substr(schema_bytes), instant{std::chrono::milliseconds{ms}}};
}

}  // namespace detail

class one_off_listener {
public:
    struct status {
        bool listening = false;  ///< connected, and LISTEN answered
        std::uint64_t connections = 0;  ///< times it connected and listened (each is followed by a poll)
        std::uint64_t notices = 0;  ///< notices of this schema told to the scheduler
        std::string last_error;  ///< why it last lost or could not make its connection; "" if never
    };

    /// Starts listening, on a thread of its own, for `settings.schema`'s one-offs. `s`
    /// must outlive the listener.
    one_off_listener(options settings, scheduler& s,
                     std::chrono::milliseconds check_every = std::chrono::milliseconds{5000})
        : link_(std::move(settings)), scheduler_(s), check_every_(check_every) {
        if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0)
            throw std::system_error(errno, std::generic_category(), "one_off_listener: pipe2");
        thread_ = std::thread([this] { loop(); });
    }
    one_off_listener(const one_off_listener&) = delete;
    one_off_listener& operator=(const one_off_listener&) = delete;
    /// Stops the thread: at once, or after a call under way (at most command_timeout).
    ~one_off_listener() {
        stopping_ = true;
        [[maybe_unused]] const auto written = ::write(wake_[1], "x", 1);
        thread_.join();
        ::close(wake_[0]);
        ::close(wake_[1]);
    }

    [[nodiscard]] status state() const {
        std::lock_guard hold{mutex_};
        return status_;
    }

private:
    using clock = std::chrono::steady_clock;
    using milliseconds = std::chrono::milliseconds;

    void loop() {
        milliseconds retry{100};
        auto next_check = clock::now() + check_every_;
        while (!stopping_) {
            if (!link_.connected()) {
                if (!listen()) {
                    pause(retry);
                    retry = std::min(retry * 2, milliseconds{5000});
                    continue;
                }
                retry = milliseconds{100};
                next_check = clock::now() + check_every_;
                scheduler_.one_off_notices_missed();
            }
            const auto left = std::max(std::chrono::ceil<milliseconds>(next_check - clock::now()), milliseconds{0});
            auto got = link_.notices(left, wake_[0]);
            if (!got) {
                lost(got.error());
                continue;
            }
            for (const auto& n : *got)
                tell(n);
            if (clock::now() >= next_check && !stopping_) {
                if (auto alive = link_.run("SELECT 1"); !alive) lost(alive.error());
                next_check = clock::now() + check_every_;
            }
        }
    }

    // Connects, checks the schema has migration 3, and LISTENs.
    bool listen() {
        const auto& schema = link_.settings().schema;
        auto version = detail::schema_version(link_);
        std::optional<backend_error> problem;
        if (!version) {
            problem = version.error();
        } else if (auto bad = detail::check_version(*version, schema)) {
            problem = std::move(bad);
        } else if (auto listening = link_.run((std::string("LISTEN ") + detail::due_channel).c_str()); !listening) {
            problem = listening.error();
        }
        if (problem) link_.reset();  // connected or not, it does not listen: start over
        std::lock_guard hold{mutex_};
        if (problem) {
            status_.last_error = problem->message();
            return false;
        }
        status_.listening = true;
        ++status_.connections;
        return true;
    }

    void tell(const detail::notice& n) {
        if (n.channel != detail::due_channel) return;
        const auto due = detail::due_notice_of(n.payload, link_.settings().schema);
        if (!due) return;
        scheduler_.one_off_noticed(due->kind, due->run_at);
        std::lock_guard hold{mutex_};
        ++status_.notices;
    }

    void lost(const backend_error& why) {
        link_.reset();
        std::lock_guard hold{mutex_};
        status_.listening = false;
        status_.last_error = why.message();
    }

    // Waits `how_long` on the steady clock, or until the destructor wakes the thread.
    void pause(milliseconds how_long) const {
        pollfd woken{wake_[0], POLLIN, 0};
        (void)::poll(&woken, 1, static_cast<int>(how_long.count()));
    }

    detail::connection link_;
    scheduler& scheduler_;
    milliseconds check_every_;
    int wake_[2] = {-1, -1};
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_;
    status status_;
    std::thread thread_;
};

}  // namespace sked::postgres
