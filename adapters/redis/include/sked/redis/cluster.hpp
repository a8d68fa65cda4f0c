// sked/redis/cluster.hpp — where a script goes: to the one server (or Sentinel's master
// of the moment), or, on Redis Cluster, to the master that serves its key's slot.
//
// No C or C++ cluster client is packaged in Debian (hiredis 0.14 has none), so this is
// the small part of one that sked's scripts need: the slot of a key (CRC16 of its hash
// tag), which master serves each slot (CLUSTER SLOTS), one script_client per master,
// and the redirections (MOVED: the map is old, read it again; ASK: one call goes to the
// node a slot is migrating to, after ASKING). Every script sked runs touches one slot:
// its keys carry one {hash tag}, or, in a claim batch, keys of one slot only.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sked/backend_error.hpp"
#include "sked/redis/connection.hpp"
#include "sked/redis/options.hpp"
#include "sked/redis/scripts.hpp"
#include "sked/result.hpp"

namespace sked::redis::detail {

inline constexpr std::size_t cluster_slot_count = 16384;

// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), the one Redis Cluster uses.
inline constexpr std::array<std::uint16_t, 256> crc16_table = [] {
    std::array<std::uint16_t, 256> table{};
    for (unsigned byte = 0; byte < 256; ++byte) {
        unsigned crc = byte << 8;
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc & 0x8000U) != 0 ? (crc << 1) ^ 0x1021U : crc << 1;
        table[byte] = static_cast<std::uint16_t>(crc);
    }
    return table;
}();

inline constexpr std::uint16_t crc16(std::string_view bytes) noexcept {
    unsigned crc = 0;
    for (const char c : bytes)
        crc = ((crc << 8) ^ crc16_table[((crc >> 8) ^ static_cast<unsigned char>(c)) & 0xFFU]) & 0xFFFFU;
    return static_cast<std::uint16_t>(crc);
}

/// The cluster slot of a key: CRC16 of its hash tag (the text between the first '{' and
/// the next '}', when not empty), or of the whole key, modulo 16,384.
inline constexpr std::uint16_t key_slot(std::string_view key) noexcept {
    if (const auto open = key.find('{'); open != std::string_view::npos) {
        const auto close = key.find('}', open + 1);
        if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
    }
    return static_cast<std::uint16_t>(crc16(key) % cluster_slot_count);
}

static_assert(crc16("123456789") == 0x31C3, "the check value of CRC16/XMODEM");

/// A redirection in an error reply: "MOVED <slot> <host>:<port>" or "ASK ...".
struct redirection {
    bool ask = false;
    endpoint to;
};

inline std::optional<redirection> redirection_in(const redisReply& reply) {
    if (reply.type != REDIS_REPLY_ERROR) return std::nullopt;
    const auto text = text_of(reply);
    const bool ask = text.starts_with("ASK ");
    if (!ask && !text.starts_with("MOVED ")) return std::nullopt;
    const auto address = text.rfind(' ');
    auto to = parse_endpoints(text.substr(address + 1));
    if (!to || to->size() != 1) return std::nullopt;
    return redirection{ask, to->front()};
}

/// Runs script calls where their keys live. Not thread-safe; its users lock.
class script_router {
public:
    explicit script_router(options settings) : settings_(std::move(settings)) {
        if (!clustered()) nodes_.emplace(settings_.host, std::make_unique<script_client>(settings_));
    }

    [[nodiscard]] const options& settings() const noexcept { return settings_; }
    [[nodiscard]] bool clustered() const noexcept { return !settings_.cluster.empty(); }

    /// The one server, or the cluster by its first node.
    [[nodiscard]] std::string address() const {
        return clustered() ? "the cluster at " + settings_.cluster.front().text() : only().address();
    }

    /// Runs the calls, each where its first key lives: one pipeline per master, all
    /// sent before any is read. One reply per call, in order. A master that fails
    /// fails the whole call (after the map was read again, in case it moved).
    result<std::vector<reply_ptr>, backend_error> run(const std::vector<script_call>& calls) {
        if (auto bad = settings_problem()) return *std::move(bad);
        if (!clustered()) return only().run(calls);
        std::vector<reply_ptr> replies(calls.size());
        std::vector<std::size_t> pending(calls.size());
        for (std::size_t i = 0; i < calls.size(); ++i)
            pending[i] = i;
        // Each round sends what is left to the masters the map names; a MOVED reply or a
        // master that failed sends its calls to another round on a map read again.
        for (int round = 0; round < max_rounds && !pending.empty(); ++round) {
            if (!map_read_) {
                if (auto failed = read_map()) return *std::move(failed);
            }
            auto outcome = run_round(calls, pending, replies);
            if (!outcome) return outcome.error();
            pending = *std::move(outcome);
        }
        if (!pending.empty())
            return backend_error{backend_errc::unreachable, "the cluster at " + settings_.cluster.front().text() +
                                                                " kept redirecting " +
                                                                calls[pending.front()].keys.front()};
        return replies;
    }

    /// Plain commands (TIME, INFO) to the server; on a cluster, to the master of slot 0.
    result<std::vector<reply_ptr>, backend_error> commands(const std::vector<command>& commands) {
        if (auto bad = settings_problem()) return *std::move(bad);
        if (!clustered()) return only().link().pipeline(commands);
        if (!map_read_) {
            if (auto failed = read_map()) return *std::move(failed);
        }
        if (slot_owner_[0] == no_master)
            return backend_error{backend_errc::unreachable, "no master of " + address() + " serves slot 0"};
        auto replies = node(masters_[slot_owner_[0]]).link().pipeline(commands);
        if (!replies) map_read_ = false;
        return replies;
    }

    /// How many times the scripts were loaded, on every node together.
    [[nodiscard]] std::size_t loads() const noexcept {
        std::size_t total = 0;
        for (const auto& [name, client] : nodes_)
            total += client->loads();
        return total;
    }

private:
    static constexpr int max_rounds = 3;  // the first, and twice on a map read again
    static constexpr std::uint16_t no_master = 0xFFFF;

    script_client& only() const { return *nodes_.begin()->second; }

    std::optional<backend_error> settings_problem() const {
        if (!clustered()) return std::nullopt;
        if (!settings_.sentinels.empty())
            return backend_error{backend_errc::invalid_argument,
                                 "options name both sentinels and cluster nodes; a cluster fails over by itself"};
        if (settings_.database != 0)
            return backend_error{backend_errc::invalid_argument,
                                 "a cluster has only database 0, got database " + std::to_string(settings_.database)};
        return std::nullopt;
    }

    // One round: the pending calls grouped by master, sent, read. Answers the calls to
    // send again (redirected by MOVED, or on a master that failed when the map has
    // changed since); ASK is followed at once, for one call.
    result<std::vector<std::size_t>, backend_error> run_round(const std::vector<script_call>& calls,
                                                              const std::vector<std::size_t>& pending,
                                                              std::vector<reply_ptr>& replies) {
        std::map<std::uint16_t, std::vector<std::size_t>> by_master;
        for (const auto i : pending) {
            const auto owner = slot_owner_[key_slot(calls[i].keys.front())];
            if (owner == no_master)
                return backend_error{backend_errc::unreachable, "no master of the cluster at " +
                                                                    settings_.cluster.front().text() + " serves slot " +
                                                                    std::to_string(key_slot(calls[i].keys.front()))};
            by_master[owner].push_back(i);
        }
        std::vector<std::vector<script_call>> batches;
        std::vector<std::optional<backend_error>> failures;
        for (const auto& [owner, indices] : by_master) {
            auto& batch = batches.emplace_back();
            for (const auto i : indices)
                batch.push_back(calls[i]);
            failures.push_back(node(masters_[owner]).start(batch));
        }
        std::vector<std::size_t> again;
        std::optional<backend_error> failed;
        std::size_t b = 0;
        for (const auto& [owner, indices] : by_master) {
            auto read = failures[b] ? result<std::vector<reply_ptr>, backend_error>{*failures[b]}
                                    : node(masters_[owner]).finish(batches[b]);
            ++b;
            if (!read) {
                failed = read.error();
                again.insert(again.end(), indices.begin(), indices.end());
                continue;
            }
            for (std::size_t k = 0; k < indices.size(); ++k) {
                auto& reply = (*read)[k];
                const auto moved = redirection_in(*reply);
                if (moved && !moved->ask) {
                    map_read_ = false;
                    again.push_back(indices[k]);
                } else if (moved) {
                    auto answer = node(moved->to).run_asking(calls[indices[k]]);
                    if (!answer) return answer.error();
                    replies[indices[k]] = *std::move(answer);
                } else {
                    replies[indices[k]] = std::move(reply);
                }
            }
        }
        if (failed && !map_moved_after(*failed)) return *std::move(failed);
        std::sort(again.begin(), again.end());
        return again;
    }

    // After a master failed: whether the map, read again, names other masters (a
    // replica took over), so its calls are worth sending again. If not, the failure stands.
    bool map_moved_after(const backend_error& failure) {
        if (failure.code != backend_errc::unreachable) return false;
        const auto before = masters_;
        return !read_map() && masters_ != before;
    }

    // Asks the masters known, then the configured nodes, for CLUSTER SLOTS; the first
    // good answer is the map.
    std::optional<backend_error> read_map() {
        std::vector<endpoint> ask = masters_;
        ask.insert(ask.end(), settings_.cluster.begin(), settings_.cluster.end());
        std::string why;
        for (const auto& where : ask) {
            auto replies = node(where).link().pipeline({{"CLUSTER", "SLOTS"}});
            auto failed = replies ? adopt_map(*replies->front(), where) : std::optional{replies.error()};
            if (!failed) return std::nullopt;
            why += (why.empty() ? "" : "; ") + failed->detail;
        }
        map_read_ = false;
        return backend_error{backend_errc::unreachable, "no node of the cluster gave its slot map: " + why};
    }

    std::optional<backend_error> adopt_map(const redisReply& answer, const endpoint& from) {
        const auto bad = [&](std::string_view what) {
            return backend_error{answer.type == REDIS_REPLY_ERROR ? backend_errc::server_error : backend_errc::protocol,
                                 "CLUSTER SLOTS on " + from.text() + ": " + std::string(what)};
        };
        if (answer.type == REDIS_REPLY_ERROR) return bad(text_of(answer));
        if (answer.type != REDIS_REPLY_ARRAY || answer.elements == 0) return bad("no slot is served");
        std::vector<endpoint> masters;
        std::array<std::uint16_t, cluster_slot_count> owners;
        owners.fill(no_master);
        for (std::size_t r = 0; r < answer.elements; ++r) {
            const auto& range = *answer.element[r];
            if (range.type != REDIS_REPLY_ARRAY || range.elements < 3 ||
                range.element[0]->type != REDIS_REPLY_INTEGER || range.element[1]->type != REDIS_REPLY_INTEGER ||
                range.element[2]->type != REDIS_REPLY_ARRAY || range.element[2]->elements < 2 ||
                range.element[2]->element[0]->type != REDIS_REPLY_STRING ||
                range.element[2]->element[1]->type != REDIS_REPLY_INTEGER)
                return bad("a slot range is not [first, last, [host, port, ...], ...]");
            const auto first = range.element[0]->integer, last = range.element[1]->integer;
            if (first < 0 || last < first || last >= static_cast<long long>(cluster_slot_count))
                return bad("a slot range is out of 0-16383");
            // An empty host means "the address you asked me on".
            const auto host = text_of(*range.element[2]->element[0]);
            endpoint master{host.empty() ? from.host : std::string(host),
                            static_cast<int>(range.element[2]->element[1]->integer)};
            auto known = std::find(masters.begin(), masters.end(), master);
            if (known == masters.end()) known = masters.insert(masters.end(), master);
            std::fill(owners.begin() + first, owners.begin() + last + 1,
                      static_cast<std::uint16_t>(known - masters.begin()));
        }
        masters_ = std::move(masters);
        slot_owner_ = owners;
        map_read_ = true;
        return std::nullopt;
    }

    // The client of a node, made at first use with the settings but its address.
    script_client& node(const endpoint& where) {
        auto& client = nodes_[where.text()];
        if (!client) {
            auto settings = settings_;
            settings.host = where.host;
            settings.port = where.port;
            settings.cluster.clear();
            client = std::make_unique<script_client>(std::move(settings));
        }
        return *client;
    }

    options settings_;
    std::map<std::string, std::unique_ptr<script_client>> nodes_;  // by HOST:PORT; one when not clustered
    std::vector<endpoint> masters_;  // the masters the map names
    std::array<std::uint16_t, cluster_slot_count> slot_owner_{};  // slot -> index in masters_
    bool map_read_ = false;  // false: read it before the next call (never read, or MOVED)
};

}  // namespace sked::redis::detail
