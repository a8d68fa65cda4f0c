// sked/redis/redlock.hpp — one lock over N independent Redis servers (CMake: sked::redis).
//
// Redlock as Redis describes it: claim on every server with the same owner token; the
// lock is held when a majority (N/2 + 1) granted it and time is left, valid for
// ttl - elapsed - drift; otherwise it is released everywhere. Servers are asked in
// parallel (each request is sent before any reply is read), so a call costs about one
// round trip to the slowest server that answers, bounded by the command timeout.
//
// Fencing tokens stay monotonic (docs/locks.md): the token is the largest a quorum
// issued, and before try_lock returns it is written back to every server, requiring a
// majority to accept it. Any later majority shares a server with that one, and that
// server's next token is higher.
#pragma once

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sked/backend_error.hpp"
#include "sked/lock.hpp"
#include "sked/redis/connection.hpp"
#include "sked/redis/scripts.hpp"
#include "sked/result.hpp"

namespace sked::redis {

/// A sked::lock_backend over N independent Redis servers. Keys as in sked::redis::locks,
/// using each server's own prefix.
class redlock {
public:
    /// One options entry per server; each needs its own address.
    explicit redlock(const std::vector<options>& servers) {
        for (const auto& server : servers)
            servers_.push_back(std::make_unique<detail::script_client>(server));
    }

    [[nodiscard]] std::size_t quorum() const noexcept { return servers_.size() / 2 + 1; }

    result<grant, backend_error> try_lock(std::string_view name, std::chrono::milliseconds ttl) {
        if (auto bad = sked::detail::check_name("lock name", name)) return *std::move(bad);
        if (auto bad = sked::detail::check_ttl("ttl", ttl)) return *std::move(bad);
        if (servers_.empty()) return backend_error{backend_errc::invalid_argument, "redlock has no servers"};
        std::lock_guard hold{mutex_};
        const std::string owner = owners_.next();
        const auto started = lease_clock::now();
        const auto replies = ask_all(detail::script::claim, name, {detail::ms_text(ttl), memory_text(), owner});
        fence_token highest = 0;
        std::size_t granted = 0;
        std::vector<std::string> failures;
        for (std::size_t i = 0; i < servers_.size(); ++i) {
            auto parsed = replies[i] ? detail::parse_claims(*replies[i].value(), 1, ttl, servers_[i]->address())
                                     : result<std::vector<detail::claim_reply>, backend_error>{replies[i].error()};
            if (!parsed) {
                failures.push_back(parsed.error().message());
            } else if (parsed->front().status == grant_status::acquired) {
                ++granted;
                highest = std::max(highest, parsed->front().fence);
            }
        }
        if (granted >= quorum()) {
            // The write-back raises each counter to at least `highest`; a majority must take it.
            auto written = count_flags(detail::script::raise_fence, name, {std::to_string(highest), memory_text()},
                                       "fence write-back");
            const auto valid_until = started + ttl - detail::drift_allowance(ttl);
            if (written && *written && lease_clock::now() < valid_until) {
                return grant{grant_status::acquired, lease{std::string(name), owner, highest, valid_until}};
            }
            if (!written) failures.push_back(written.error().message());
        }
        (void)ask_all(detail::script::release, name, {owner, memory_text()});
        if (granted >= quorum()) {
            return backend_error{backend_errc::timeout, "a quorum granted '" + std::string(name) +
                                                            "' but its validity ran out before the fencing "
                                                            "token was written back"};
        }
        if (servers_.size() - failures.size() < quorum()) return no_quorum("try_lock", failures);
        return grant{grant_status::held_elsewhere, {}};
    }

    result<bool, backend_error> renew(lease& held, std::chrono::milliseconds ttl) {
        if (auto bad = sked::detail::check_ttl("ttl", ttl)) return *std::move(bad);
        std::lock_guard hold{mutex_};
        const auto started = lease_clock::now();
        auto renewed =
            count_flags(detail::script::renew, held.name, {held.owner, detail::ms_text(ttl), memory_text()}, "renew");
        if (renewed && *renewed) held.valid_until = started + ttl - detail::drift_allowance(ttl);
        return renewed;
    }

    /// Releases on every server; true when a quorum still held this lease.
    result<bool, backend_error> unlock(const lease& held) {
        std::lock_guard hold{mutex_};
        return count_flags(detail::script::release, held.name, {held.owner, memory_text()}, "unlock");
    }

private:
    using reply_or_error = result<detail::reply_ptr, backend_error>;

    // Sends the same script to every server before reading any reply.
    std::vector<reply_or_error> ask_all(detail::script which, std::string_view name, std::vector<std::string> args) {
        std::vector<std::vector<detail::script_call>> calls;
        std::vector<std::optional<backend_error>> send_failures;
        for (const auto& server : servers_) {
            calls.push_back({{which, {key_of(*server, name)}, args}});
            send_failures.push_back(server->start(calls.back()));
        }
        std::vector<reply_or_error> replies;
        for (std::size_t i = 0; i < servers_.size(); ++i) {
            if (send_failures[i]) {
                replies.emplace_back(*std::move(send_failures[i]));
                continue;
            }
            auto received = servers_[i]->finish(calls[i]);
            if (received) {
                replies.emplace_back(std::move(received->front()));
            } else {
                replies.emplace_back(received.error());
            }
        }
        return replies;
    }

    // True when a quorum answered 1; an error when too few answered to tell.
    result<bool, backend_error> count_flags(detail::script which, std::string_view name, std::vector<std::string> args,
                                            std::string_view doing) {
        const auto replies = ask_all(which, name, std::move(args));
        std::size_t yes = 0;
        std::vector<std::string> failures;
        for (std::size_t i = 0; i < replies.size(); ++i) {
            auto flag = replies[i] ? detail::parse_flag(*replies[i].value(),
                                                        std::string(doing) + " on " + servers_[i]->address())
                                   : result<bool, backend_error>{replies[i].error()};
            if (!flag) {
                failures.push_back(flag.error().message());
            } else if (*flag) {
                ++yes;
            }
        }
        if (yes >= quorum()) return true;
        if (yes + failures.size() >= quorum() && !failures.empty()) return no_quorum(doing, failures);
        return false;
    }

    backend_error no_quorum(std::string_view doing, const std::vector<std::string>& failures) const {
        std::string detail = std::string(doing) + ": " + std::to_string(failures.size()) + " of " +
                             std::to_string(servers_.size()) + " servers failed, " + std::to_string(quorum()) +
                             " must answer";
        for (const auto& failure : failures)
            detail += "; " + failure;
        return backend_error{backend_errc::no_quorum, std::move(detail)};
    }

    static std::string key_of(const detail::script_client& server, std::string_view name) {
        return detail::record_key(server.settings().prefix, "lock", name);
    }

    std::string memory_text() const { return detail::ms_text(servers_.front()->settings().fence_memory); }

    std::mutex mutex_;
    std::vector<std::unique_ptr<detail::script_client>> servers_;
    detail::owner_tokens owners_;
};

static_assert(lock_backend<redlock>);

}  // namespace sked::redis
