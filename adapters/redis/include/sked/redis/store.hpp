// sked/redis/store.hpp — locks and a key store on Redis: one server, the master that
// Sentinel names, or a Cluster (CMake: sked::redis).
//
//     sked::redis::keys keys{{.host = "127.0.0.1", .port = 6379, .prefix = "rewards"}};
//     auto g = keys.claim(sked::run_key("daily_reward", slot), 5min);
//
// Each operation is one Lua script, so one round trip, atomic on the server. Objects
// are thread-safe (a mutex around one connection); give each busy thread its own for
// throughput. What holds when Redis fails is in docs/locks.md.
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sked/backend_error.hpp"
#include "sked/idempotency.hpp"
#include "sked/lock.hpp"
#include "sked/one_off.hpp"
#include "sked/redis/cluster.hpp"
#include "sked/redis/connection.hpp"
#include "sked/redis/jobs.hpp"
#include "sked/redis/scripts.hpp"
#include "sked/result.hpp"

namespace sked::redis {
namespace detail {

/// Leases on names of one kind ("lock" or "key") on one server.
class lease_client {
public:
    lease_client(options settings, std::string_view kind, std::string_view what)
        : client_(std::move(settings)), kind_(kind), what_(what) {}

    result<grant, backend_error> claim(std::string_view name, std::chrono::milliseconds ttl) {
        std::vector<std::string> names{std::string(name)};
        auto grants = claim_many(names, ttl);
        if (!grants) return grants.error();
        return std::move(grants->front());
    }

    /// Claims every name in one round trip: one script per chunk of up to
    /// `keys_per_script` names, the chunks pipelined (on a cluster, one pipeline per
    /// master, a chunk's keys in one slot). Names are checked before anything is sent;
    /// if a connection fails midway, some claims may have been made (they expire).
    result<std::vector<grant>, backend_error> claim_many(std::span<const std::string> names,
                                                         std::chrono::milliseconds ttl) {
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (auto bad = sked::detail::check_name(what_, names[i])) {
                if (names.size() > 1) bad->detail += " (item " + std::to_string(i) + " of the batch)";
                return *std::move(bad);
            }
        }
        if (auto bad = sked::detail::check_ttl("ttl", ttl)) return *std::move(bad);
        std::lock_guard hold{mutex_};
        auto [keys, chunks] = chunk(names);
        std::vector<script_call> calls;
        std::vector<std::string> owners(names.size());
        for (const auto& members : chunks) {
            // One owner for a chunk's claims, sent once. A name whose claim went unanswered
            // is claimed with the owner it was sent with (the chunk's, when the chunk is
            // sent again as it was), so a claim that did reach the server is recognised.
            const auto owner = owner_for(names[members.front()], owners_.next());
            auto& call = calls.emplace_back(script_call{script::claim, {}, {ms_text(ttl), memory_text(), owner}});
            for (std::size_t k = 0; k < members.size(); ++k) {
                const auto i = members[k];
                owners[i] = owner_for(names[i], owner);
                call.keys.push_back(std::move(keys[i]));
                if (owners[i] != owner) call.args.insert(call.args.end(), {std::to_string(k + 1), owners[i]});
            }
        }
        const auto sent_at = lease_clock::now();
        auto replies = client_.run(calls);
        if (!replies) {
            remember_unanswered(names, owners);
            return replies.error();
        }
        std::vector<grant> grants(names.size());
        for (std::size_t c = 0; c < calls.size(); ++c) {
            auto parsed = parse_claims(*(*replies)[c], calls[c].keys.size(), ttl, calls[c].keys.front());
            if (!parsed) return parsed.error();
            for (std::size_t k = 0; k < chunks[c].size(); ++k) {
                const auto i = chunks[c][k];
                const auto& claim = (*parsed)[k];
                auto& answer = grants[i];
                answer.status = claim.status;
                if (claim.status == grant_status::held_elsewhere) answer.holder_left = claim.remaining;
                if (answer.acquired()) {
                    answer.lease = lease{names[i], std::move(owners[i]), claim.fence,
                                         sent_at + claim.remaining - drift_allowance(ttl)};
                }
            }
        }
        return grants;
    }

    /// A script holds the server while it runs: 64 keys take it about a third of a ms.
    static constexpr std::size_t keys_per_script = 64;
    /// How many claims whose answer was lost are remembered for a retry (then forgotten:
    /// such a claim then holds its key until its ttl runs out, as any lost claim would).
    static constexpr std::size_t unanswered_memory = 4096;

    result<bool, backend_error> renew(lease& held, std::chrono::milliseconds ttl) {
        if (auto bad = sked::detail::check_ttl("ttl", ttl)) return *std::move(bad);
        const auto sent_at = lease_clock::now();
        if (auto bad = sked::detail::check_name(what_, held.name)) return *std::move(bad);
        auto renewed =
            flag({script::renew, {key_of(held.name)}, {held.owner, ms_text(ttl), memory_text()}}, "renew on ");
        if (renewed && *renewed) held.valid_until = sent_at + ttl - drift_allowance(ttl);
        return renewed;
    }

    result<bool, backend_error> release(const lease& held) {
        if (auto bad = sked::detail::check_name(what_, held.name)) return *std::move(bad);
        return flag(release_call(held), "release on ");
    }

    result<bool, backend_error> complete(const lease& held, std::chrono::milliseconds keep_for) {
        if (auto bad = sked::detail::check_ttl("keep_for", keep_for)) return *std::move(bad);
        if (auto bad = sked::detail::check_name(what_, held.name)) return *std::move(bad);
        return flag(complete_call(held, keep_for), "complete on ");
    }

    /// For each name: claimed, and its lease ran out unsettled (kept for the fence memory).
    result<std::vector<bool>, backend_error> abandoned(std::span<const std::string> names) {
        for (const auto& name : names)
            if (auto bad = sked::detail::check_name(what_, name)) return *std::move(bad);
        std::lock_guard hold{mutex_};
        auto [keys, chunks] = chunk(names);
        std::vector<script_call> calls;
        for (const auto& members : chunks) {
            auto& call = calls.emplace_back(script_call{script::abandoned, {}, {}});
            for (const auto i : members)
                call.keys.push_back(std::move(keys[i]));
        }
        auto replies = client_.run(calls);
        if (!replies) return replies.error();
        std::vector<bool> out(names.size());
        for (std::size_t c = 0; c < calls.size(); ++c) {
            const auto& reply = *(*replies)[c];
            if (reply.type == REDIS_REPLY_ERROR) return error_from_reply(reply, "inspecting " + calls[c].keys.front());
            if (reply.type != REDIS_REPLY_ARRAY || reply.elements != calls[c].keys.size())
                return backend_error{backend_errc::protocol, "inspecting " + calls[c].keys.front() + " answered " +
                                                                 std::string(type_name(reply.type))};
            for (std::size_t k = 0; k < reply.elements; ++k)
                out[chunks[c][k]] = reply.element[k]->type == REDIS_REPLY_INTEGER && reply.element[k]->integer == 1;
        }
        return out;
    }

    /// The server's clock (TIME) and identity (INFO's run_id), in one round trip.
    result<backend_facts, backend_error> facts() {
        std::lock_guard hold{mutex_};
        auto replies = client_.commands({{"TIME"}, {"INFO", "server"}});
        if (!replies) return replies.error();
        const auto& time = *(*replies)[0];
        const auto& info = *(*replies)[1];
        if (time.type != REDIS_REPLY_ARRAY || time.elements != 2 || info.type != REDIS_REPLY_STRING)
            return backend_error{backend_errc::protocol, "TIME and INFO on " + client_.address() + " answered " +
                                                             std::string(type_name(time.type)) + " and " +
                                                             std::string(type_name(info.type))};
        const auto number = [](const redisReply& part) {
            long long value = -1;
            const auto text = text_of(part);
            const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
            return error == std::errc{} && end == text.data() + text.size() ? value : -1;
        };
        const auto seconds = number(*time.element[0]), micros = number(*time.element[1]);
        if (seconds < 0 || micros < 0)
            return backend_error{backend_errc::protocol, "TIME on " + client_.address() + " answered no number"};
        backend_facts facts{instant{std::chrono::milliseconds{seconds * 1000 + micros / 1000}}, {}};
        const auto text = text_of(info);
        if (const auto at = text.find("run_id:"); at != std::string_view::npos) {
            const auto end = text.find_first_of("\r\n", at);
            facts.instance = std::string(text.substr(at + 7, end == std::string_view::npos ? end : end - at - 7));
        }
        return facts;
    }

    /// Slot progress for the scheduler; records are kept for slot_memory.
    result<std::optional<std::chrono::sys_seconds>, backend_error> last_slot(std::string_view job) {
        if (auto bad = sked::detail::check_name("job", job)) return *std::move(bad);
        const auto key = record_key(client_.settings().prefix, "slot", job);
        auto reply = run_one(script::slot_read, key, {});
        if (!reply) return reply.error();
        const auto& answer = **reply;
        if (answer.type == REDIS_REPLY_NIL) return std::optional<std::chrono::sys_seconds>{};
        if (answer.type == REDIS_REPLY_INTEGER)
            return std::optional{std::chrono::sys_seconds{std::chrono::seconds{answer.integer}}};
        if (answer.type == REDIS_REPLY_ERROR) return error_from_reply(answer, "reading " + key);
        return backend_error{backend_errc::protocol,
                             "reading " + key + " answered " + std::string(type_name(answer.type))};
    }

    result<bool, backend_error> record_slot(std::string_view job, std::chrono::sys_seconds slot) {
        if (auto bad = sked::detail::check_name("job", job)) return *std::move(bad);
        return flag(record_call(job, slot), "recording ");
    }

    /// The ends of many runs in one round trip: on one server, one settle script per
    /// keys_per_script runs; on a cluster, for each run its key's complete or release
    /// script, then its slot record's, all pipelined (each on its own keys, so each can
    /// be routed alone).
    result<std::vector<key_settled>, backend_error> settle_many(std::span<const key_settlement> batch) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
            auto bad = sked::detail::check_name(what_, batch[i].key->name);
            if (!bad && batch[i].record) bad = sked::detail::check_name("job", batch[i].job);
            if (!bad && batch[i].completed) bad = sked::detail::check_ttl("keep_for", batch[i].keep);
            if (bad) {
                if (batch.size() > 1) bad->detail += " (item " + std::to_string(i) + " of the batch)";
                return *std::move(bad);
            }
        }
        std::lock_guard hold{mutex_};
        return client_.clustered() ? settle_alone(batch) : settle_together(batch);
    }

    /// How far past the server's clock a slot may be recorded (a replica's clock may
    /// run this much ahead of the server's).
    static constexpr std::chrono::milliseconds slot_ahead_allowance{5'000};

    /// How long a job's slot record outlives its last update (a job gone that long is
    /// treated as new).
    static constexpr std::chrono::milliseconds slot_memory{std::chrono::hours{24 * 400}};

    // ---- durable one-off jobs (keys in sked/redis/scripts.hpp) --------------------------

    result<create_status, backend_error> create_job(const one_off_record& r) {
        if (auto bad = sked::detail::problem_with(r)) return *std::move(bad);
        auto reply =
            run_job(script::job_create, r.kind,
                    {std::string(r.key), std::to_string(r.run_at.time_since_epoch().count()), job_record_text(r)});
        if (!reply) return reply.error();
        const auto& answer = **reply;
        if (answer.type == REDIS_REPLY_INTEGER && answer.integer >= 0 && answer.integer <= 2)
            return static_cast<create_status>(answer.integer);
        return unexpected(answer, "creating one-off " + std::string(r.kind) + "/" + std::string(r.key));
    }

    result<bool, backend_error> cancel_job(std::string_view kind, std::string_view key) {
        auto reply = run_job(script::job_cancel, kind, {std::string(key)});
        if (!reply) return reply.error();
        return parse_flag(**reply, "cancelling one-off " + std::string(kind) + "/" + std::string(key));
    }

    result<taken_batch, backend_error> take_jobs(std::string_view kind, instant now, std::size_t n,
                                                 std::chrono::milliseconds ttl) {
        if (auto bad = sked::detail::check_ttl("ttl", ttl)) return *std::move(bad);
        const auto sent_at = lease_clock::now();
        std::string owner;
        {
            std::lock_guard hold{mutex_};
            owner = owners_.next();
        }
        auto reply = run_job(script::job_take, kind,
                             {std::to_string(now.time_since_epoch().count()), std::to_string(n), ms_text(ttl), owner});
        if (!reply) return reply.error();
        const auto& answer = **reply;
        const std::string where = record_key(client_.settings().prefix, "due", kind);
        if (answer.type == REDIS_REPLY_ERROR) return error_from_reply(answer, "take on " + where);
        if (answer.type != REDIS_REPLY_ARRAY || answer.elements < 3 || (answer.elements - 3) % 4 != 0 ||
            answer.element[0]->type != REDIS_REPLY_INTEGER || answer.element[1]->type != REDIS_REPLY_INTEGER ||
            answer.element[2]->type != REDIS_REPLY_INTEGER)
            return unexpected(answer, "take on " + where);
        taken_batch batch;
        batch.left.pending = static_cast<std::uint64_t>(answer.element[0]->integer);
        batch.left.in_flight = static_cast<std::uint64_t>(answer.element[1]->integer);
        if (answer.element[2]->integer >= 0)
            batch.left.next_due = instant{std::chrono::milliseconds{answer.element[2]->integer}};
        const auto valid_until = sent_at + ttl - drift_allowance(ttl);
        for (std::size_t i = 3; i < answer.elements; i += 4) {
            auto job = parse_taken(kind, answer.element + i, where);
            if (!job) return job.error();
            job->lease.owner = owner;
            job->lease.valid_until = valid_until;
            batch.jobs.push_back(*std::move(job));
        }
        return batch;
    }

    result<bool, backend_error> renew_job(taken_job& held, std::chrono::milliseconds ttl) {
        if (auto bad = sked::detail::check_ttl("ttl", ttl)) return *std::move(bad);
        const auto sent_at = lease_clock::now();
        auto reply = run_job(script::job_renew, held.kind, {held.key, held.lease.owner, ms_text(ttl)});
        if (!reply) return reply.error();
        auto renewed = parse_flag(**reply, "renewing one-off " + held.kind + "/" + held.key);
        if (renewed && *renewed) held.lease.valid_until = sent_at + ttl - drift_allowance(ttl);
        return renewed;
    }

    result<bool, backend_error> finish_job(const taken_job& held, std::chrono::milliseconds keep) {
        if (auto bad = sked::detail::check_ttl("keep", keep)) return *std::move(bad);
        auto reply = run_job(script::job_finish, held.kind, {held.key, held.lease.owner, ms_text(keep)});
        if (!reply) return reply.error();
        return parse_flag(**reply, "finishing one-off " + held.kind + "/" + held.key);
    }

    result<bool, backend_error> reschedule_job(const taken_job& held, instant at, std::uint32_t attempt) {
        auto reply = run_job(
            script::job_reschedule, held.kind,
            {held.key, held.lease.owner, std::to_string(at.time_since_epoch().count()), std::to_string(attempt)});
        if (!reply) return reply.error();
        return parse_flag(**reply, "rescheduling one-off " + held.kind + "/" + held.key);
    }

    /// How many times the scripts were loaded on the server (1 + NOSCRIPT recoveries).
    std::size_t script_loads() {
        std::lock_guard hold{mutex_};
        return client_.loads();
    }

private:
    // settle_many on one server: a settle script per chunk of runs.
    result<std::vector<key_settled>, backend_error> settle_together(std::span<const key_settlement> batch) {
        std::vector<script_call> calls;
        for (std::size_t first = 0; first < batch.size(); first += keys_per_script) {
            auto& call = calls.emplace_back(
                script_call{script::settle, {}, {memory_text(), ms_text(slot_memory), ms_text(slot_ahead_allowance)}});
            for (const auto& item : batch.subspan(first, std::min(keys_per_script, batch.size() - first))) {
                call.keys.push_back(key_of(item.key->name));
                if (item.record) call.keys.push_back(slot_key_of(item.job));
                call.args.insert(call.args.end(),
                                 {item.completed ? "c" : "r", item.key->owner, ms_text(item.keep),
                                  item.record ? std::to_string(item.record->time_since_epoch().count()) : ""});
            }
        }
        auto replies = client_.run(calls);
        if (!replies) return replies.error();
        std::vector<key_settled> out;
        out.reserve(batch.size());
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const auto& item = batch[i];
            const redisReply& reply = *(*replies)[i / keys_per_script];
            const auto at = 2 * (i % keys_per_script);
            const auto doing = [&] {
                return (item.completed ? "complete on " : "release on ") + key_of(item.key->name);
            };
            if (reply.type != REDIS_REPLY_ARRAY || reply.elements < at + 2) {
                out.push_back({unexpected(reply, doing()), unexpected(reply, doing())});
                continue;
            }
            auto& answer = out.emplace_back();
            answer.key = parse_flag(*reply.element[at], doing);
            answer.recorded = parse_flag(*reply.element[at + 1], [&] { return "recording " + slot_key_of(item.job); });
        }
        return out;
    }

    // settle_many on a cluster: each run's calls alone, pipelined.
    result<std::vector<key_settled>, backend_error> settle_alone(std::span<const key_settlement> batch) {
        std::vector<script_call> calls;
        calls.reserve(batch.size() * 2);
        for (const auto& item : batch) {
            calls.push_back(item.completed ? complete_call(*item.key, item.keep) : release_call(*item.key));
            if (item.record) calls.push_back(record_call(item.job, *item.record));
        }
        auto replies = client_.run(calls);
        if (!replies) return replies.error();
        std::vector<key_settled> out;
        out.reserve(batch.size());
        std::size_t next = 0;
        for (const auto& item : batch) {
            auto& answer = out.emplace_back();
            const auto& call = calls[next];
            answer.key = parse_flag(*(*replies)[next++], [&] {
                return (item.completed ? "complete on " : "release on ") + call.keys.front();
            });
            if (item.record) {
                const auto& recorded = calls[next];
                answer.recorded = parse_flag(*(*replies)[next++], [&] { return "recording " + recorded.keys.front(); });
            }
        }
        return out;
    }

    // The calls of complete, release and record_slot, alone or in settle_many's batch.
    script_call complete_call(const lease& held, std::chrono::milliseconds keep) const {
        return {script::complete, {key_of(held.name)}, {held.owner, ms_text(keep), memory_text()}};
    }
    script_call release_call(const lease& held) const {
        return {script::release, {key_of(held.name)}, {held.owner, memory_text()}};
    }
    script_call record_call(std::string_view job, std::chrono::sys_seconds slot) const {
        return {script::slot_record,
                {slot_key_of(job)},
                {std::to_string(slot.time_since_epoch().count()), ms_text(slot_memory), ms_text(slot_ahead_allowance)}};
    }

    // One call, one round trip, its 0/1 answer; an error says `doing` and the key.
    result<bool, backend_error> flag(script_call call, std::string_view doing) {
        const auto key = call.keys.front();
        auto reply = run_one(call.which, key, std::move(call.args));
        if (!reply) return reply.error();
        return parse_flag(**reply, std::string(doing) + key);
    }

    // One script on one key, one round trip.
    result<reply_ptr, backend_error> run_one(script which, const std::string& key, std::vector<std::string> args) {
        std::lock_guard hold{mutex_};
        std::vector<script_call> calls{{which, {key}, std::move(args)}};
        auto replies = client_.run(calls);
        if (!replies) return replies.error();
        return std::move(replies->front());
    }

    // One job script on a kind's six keys; args[0] is the job's key, but for a take.
    result<reply_ptr, backend_error> run_job(script which, std::string_view kind, std::vector<std::string> args) {
        if (auto bad = sked::detail::check_name("one-off kind", kind)) return *std::move(bad);
        const std::string_view key = which == script::job_take ? std::string_view{} : std::string_view{args.front()};
        std::lock_guard hold{mutex_};
        std::vector<script_call> calls{{which, job_keys(client_.settings().prefix, kind, key), std::move(args)}};
        auto replies = client_.run(calls);
        if (!replies) return replies.error();
        return std::move(replies->front());
    }

    // The record keys of the names, and their indices in chunks of up to keys_per_script,
    // each chunk one script: in order on one server; on a cluster, each chunk's keys in
    // one slot (a script's keys must be).
    std::pair<std::vector<std::string>, std::vector<std::vector<std::size_t>>> chunk(
        std::span<const std::string> names) const {
        std::vector<std::string> keys;
        keys.reserve(names.size());
        for (const auto& name : names)
            keys.push_back(key_of(name));
        std::vector<std::size_t> order(names.size());
        for (std::size_t i = 0; i < order.size(); ++i)
            order[i] = i;
        std::vector<std::uint16_t> slot(client_.clustered() ? names.size() : 0);
        if (client_.clustered()) {
            for (std::size_t i = 0; i < names.size(); ++i)
                slot[i] = key_slot(keys[i]);
            std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return slot[a] < slot[b]; });
        }
        std::vector<std::vector<std::size_t>> chunks;
        for (std::size_t n = 0; n < order.size(); ++n) {
            const bool new_slot = !slot.empty() && n > 0 && slot[order[n]] != slot[order[n - 1]];
            if (n == 0 || chunks.back().size() == keys_per_script || new_slot) chunks.emplace_back();
            chunks.back().push_back(order[n]);
        }
        return {std::move(keys), std::move(chunks)};
    }

    static backend_error unexpected(const redisReply& reply, const std::string& doing) {
        if (reply.type == REDIS_REPLY_ERROR) return error_from_reply(reply, doing);
        return backend_error{backend_errc::protocol, doing + " answered " + std::string(type_name(reply.type))};
    }

    std::string key_of(std::string_view name) const { return record_key(client_.settings().prefix, kind_, name); }
    std::string slot_key_of(std::string_view job) const { return record_key(client_.settings().prefix, "slot", job); }

    std::string memory_text() const { return ms_text(client_.settings().fence_memory); }

    std::mutex mutex_;
    script_router client_;
    // A claim whose answer was lost (a timeout, a WAIT that fell short, a connection that
    // broke) may have been made. Sent again with the same owner it is the same claim, so
    // the retry gets the key rather than finding it held by nobody who knows it. So:
    // the owner a claim of `name` was sent with and not answered, or else `otherwise`.
    std::string owner_for(const std::string& name, const std::string& otherwise) {
        if (unanswered_.empty()) return otherwise;
        const auto found = unanswered_.find(name);
        if (found == unanswered_.end()) return otherwise;
        auto owner = std::move(found->second);
        unanswered_.erase(found);
        return owner;
    }
    void remember_unanswered(std::span<const std::string> names, std::vector<std::string>& owners) {
        if (unanswered_.size() + names.size() > unanswered_memory) unanswered_.clear();
        for (std::size_t i = 0; i < names.size() && i < unanswered_memory; ++i)
            unanswered_.insert_or_assign(names[i], std::move(owners[i]));
    }

    owner_tokens owners_;
    std::unordered_map<std::string, std::string> unanswered_;  // name -> owner of a claim not answered
    std::string_view kind_;
    std::string_view what_;
};

}  // namespace detail

/// A sked::lock_backend on one Redis server. Keys: "<prefix>:lock:{<name>}".
class locks {
public:
    explicit locks(options settings = {}) : client_(std::move(settings), "lock", "lock name") {}

    result<grant, backend_error> try_lock(std::string_view name, std::chrono::milliseconds ttl) {
        return client_.claim(name, ttl);
    }
    result<bool, backend_error> renew(lease& held, std::chrono::milliseconds ttl) { return client_.renew(held, ttl); }
    result<bool, backend_error> unlock(const lease& held) { return client_.release(held); }

    std::size_t script_loads() { return client_.script_loads(); }

private:
    detail::lease_client client_;
};

/// A sked::key_store on one Redis server. Keys: "<prefix>:key:{<key>}".
class keys {
public:
    explicit keys(options settings = {}) : client_(std::move(settings), "key", "key") {}

    result<grant, backend_error> claim(std::string_view key, std::chrono::milliseconds ttl) {
        return client_.claim(key, ttl);
    }
    /// sked::batch_claims: one pipelined round trip, one script per 64 keys.
    result<std::vector<grant>, backend_error> claim_many(std::span<const std::string> batch,
                                                         std::chrono::milliseconds ttl) {
        return client_.claim_many(batch, ttl);
    }
    result<bool, backend_error> renew(lease& held, std::chrono::milliseconds ttl) { return client_.renew(held, ttl); }
    result<bool, backend_error> complete(const lease& held, std::chrono::milliseconds keep_for) {
        return client_.complete(held, keep_for);
    }
    result<bool, backend_error> release(const lease& held) { return client_.release(held); }
    /// sked::reports_facts: the server's TIME and run_id.
    result<backend_facts, backend_error> facts() { return client_.facts(); }
    /// sked::abandoned_claims: one script per 64 keys, pipelined.
    result<std::vector<bool>, backend_error> abandoned(std::span<const std::string> batch) {
        return client_.abandoned(batch);
    }

    /// sked::durable_jobs: one-off jobs under "<prefix>:<part>:{<kind>}" (sked/redis/scripts.hpp).
    result<create_status, backend_error> create_job(const one_off_record& r) { return client_.create_job(r); }
    result<bool, backend_error> cancel_job(std::string_view kind, std::string_view key) {
        return client_.cancel_job(kind, key);
    }
    result<taken_batch, backend_error> take_jobs(std::string_view kind, instant now, std::size_t n,
                                                 std::chrono::milliseconds ttl) {
        return client_.take_jobs(kind, now, n, ttl);
    }
    result<bool, backend_error> renew_job(taken_job& held, std::chrono::milliseconds ttl) {
        return client_.renew_job(held, ttl);
    }
    result<bool, backend_error> finish_job(const taken_job& held, std::chrono::milliseconds keep) {
        return client_.finish_job(held, keep);
    }
    result<bool, backend_error> retry_job(const taken_job& held, instant at, std::uint32_t attempt) {
        return client_.reschedule_job(held, at, attempt);
    }
    result<bool, backend_error> release_job(const taken_job& held) {
        return client_.reschedule_job(held, held.run_at, held.attempt);
    }

    /// sked::batch_settles: one pipelined round trip, a script or two per item.
    result<std::vector<key_settled>, backend_error> settle_many(std::span<const key_settlement> batch) {
        return client_.settle_many(batch);
    }

    /// sked::slot_progress: "<prefix>:slot:{<job>}", kept 400 days after the last record.
    result<std::optional<std::chrono::sys_seconds>, backend_error> last_slot(std::string_view job) {
        return client_.last_slot(job);
    }
    result<bool, backend_error> record_slot(std::string_view job, std::chrono::sys_seconds slot) {
        return client_.record_slot(job, slot);
    }

    std::size_t script_loads() { return client_.script_loads(); }

private:
    detail::lease_client client_;
};

static_assert(lock_backend<locks>);
static_assert(key_store<keys> && batch_claims<keys> && batch_settles<keys> && slot_progress<keys> &&
              abandoned_claims<keys> && reports_facts<keys> && durable_jobs<keys>);

}  // namespace sked::redis
