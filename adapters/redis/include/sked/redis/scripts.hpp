// sked/redis/scripts.hpp — the Lua scripts that make each lease operation one atomic
// round trip, and the client that runs them.
//
// A name's record is one string key, "<prefix>:<kind>:{<name>}", so it lives in one
// Redis Cluster slot with its fencing counter:
//     <state>|<fence>|<until>|<owner>
// state r (held), d (done) or f (free: released, or a fence kept for Redlock); fence
// the last token issued for the name; until when (server time, ms) the lease is valid
// or a done key is kept; owner the token of the current or last holder. A string, not
// a hash: one GET and one SET PX per operation, where a hash needs HMGET, HSET and
// PEXPIRE (docs/benchmarks.md). The key expires `fence memory` after `until`.
// Time is the server's (TIME), never the client's, so clients with skewed clocks agree.
// Scripts are loaded once per server (SCRIPT LOAD) and run with EVALSHA; a server that
// forgot them (restart, SCRIPT FLUSH, failover) answers NOSCRIPT, and the call loads
// them again and retries once.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sked/backend_error.hpp"
#include "sked/detail/owner_tokens.hpp"
#include "sked/lock.hpp"
#include "sked/redis/connection.hpp"
#include "sked/result.hpp"

namespace sked::redis::detail {

// Lua that reads a record into state, fence, untl, owner ('f', 0, 0, '' when absent);
// a value sked did not write is an error reply rather than a guess.
#define SKED_REDIS_READ(key) "local v = redis.call('GET', " key ")\n" SKED_REDIS_PARSE("v", key)

// Lua that parses a record read into `value` (false when absent) the same way.
#define SKED_REDIS_PARSE(value, key)                                 \
    "local state, fence, untl, owner = 'f', 0, 0, ''\n"              \
    "if " value                                                      \
    " then\n"                                                        \
    "  local s, f, u, o = string.match(" value                       \
    ", '^([rdf])|(%d+)|(%d+)|(.*)$')\n"                              \
    "  if not s then return redis.error_reply('sked: ' .. " key      \
    " .. ' holds a value sked did not "                              \
    "write') end\n"                                                  \
    "  state, fence, untl, owner = s, tonumber(f), tonumber(u), o\n" \
    "end\n"

// Server time in ms and µs.
#define SKED_REDIS_NOW                                           \
    "local t = redis.call('TIME')\n"                             \
    "local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])\n" \
    "local now = math.floor(now_us / 1000)\n"

enum class script : std::uint8_t {
    claim,
    renew,
    release,
    complete,
    raise_fence,
    slot_read,
    slot_record,
    abandoned,
    job_create,
    job_cancel,
    job_take,
    job_renew,
    job_finish,
    job_reschedule,
    settle,
};
inline constexpr std::size_t script_count = 15;

// Claims every key in KEYS. ARGV: ttl ms, fence memory ms, the owner of the claims,
// then, for a key claimed again after its answer was lost, its index and the owner it
// was claimed with. The answer starts with the server clock in µs, the token of every
// key claimed fresh; then per key either 0 (acquired fresh: that token, ttl ms) or
// {status, fence, ms}: 3 acquired with that token, 1 held elsewhere or 2 done (ms =
// time left). A new token is one more than the last and at least the server clock in µs
// (sked::detail::next_fence). A key held by the same owner is the same claim sent again:
// acquired, with its token, for a fresh ttl; a name that comes twice in one call is
// held elsewhere the second time. One script for a batch: starting a script
// costs the server about as much as a SET, so it is paid per chunk; and per key the
// common case is one `SET NX GET` (Redis 7.0) and one integer of answer.
inline constexpr std::string_view claim_source = SKED_REDIS_NOW
    "local ttl = tonumber(ARGV[1])\n"
    "local expire = ttl + tonumber(ARGV[2])\n"
    "local owner_of = {}\n"
    "for j = 4, #ARGV, 2 do owner_of[tonumber(ARGV[j])] = ARGV[j + 1] end\n"
    "local head = string.format('r|%d|%d|', now_us, now + ttl)\n"
    "local fresh = head .. ARGV[3]\n"
    "local tail = string.format('|%d|', now + ttl)\n"
    "local out, n = {now_us}, 1\n"
    "for i, key in ipairs(KEYS) do\n"
    "  local mine = owner_of[i]\n"
    "  local value = mine and head .. mine or fresh\n"
    "  local v = redis.call('SET', key, value, 'NX', 'GET', 'PX', expire)\n"
    "  if not v then\n"  // a name with no record: the common case, one call
    "    n = n + 1\n"
    "    out[n] = 0\n"
    "  else\n" SKED_REDIS_PARSE("v", "key")
    "    local left = untl - now\n"
    "    mine = mine or ARGV[3]\n"
    "    if v == value then\n"  // written by this call: the name came twice
    "      out[n + 1], out[n + 2], out[n + 3] = 1, fence, left\n"
    "    elseif state == 'r' and left > 0 and owner == mine then\n"
    "      redis.call('SET', key, string.format('r|%d', fence) .. tail .. owner, 'PX', expire)\n"
    "      out[n + 1], out[n + 2], out[n + 3] = 3, fence, ttl\n"
    "    elseif state ~= 'f' and left > 0 then\n"
    "      out[n + 1], out[n + 2], out[n + 3] = state == 'd' and 2 or 1, fence, left\n"
    "    else\n"
    "      fence = math.max(fence + 1, now_us)\n"
    "      redis.call('SET', key, string.format('r|%d', fence) .. tail .. mine, 'PX', expire)\n"
    "      out[n + 1], out[n + 2], out[n + 3] = 3, fence, ttl\n"
    "    end\n"
    "    n = n + 3\n"
    "  end\n"
    "end\n"
    "return out\n";

// ARGV: owner, ttl ms, fence memory ms. 1 renewed, 0 not ours any more.
inline constexpr std::string_view renew_source = SKED_REDIS_NOW SKED_REDIS_READ("KEYS[1]")
    "if state ~= 'r' or owner ~= ARGV[1] or untl <= now then return 0 end\n"
    "local ttl = tonumber(ARGV[2])\n"
    "redis.call('SET', KEYS[1], string.format('r|%d|%d|', fence, now + ttl) .. owner, 'PX', ttl + tonumber(ARGV[3]))\n"
    "return 1\n";

// The ends of runs, as Lua functions that answer 0, 1 or an error (a table, which a
// batch carries as one element of its answer, so one bad key fails only its own run):
// complete, release, and the slot record. A value sked did not write is an error rather
// than a guess; a read that fails (WRONGTYPE) is caught with pcall, for the same reason.
//   complete(key, owner, keep, memory): 0 when another holder claimed the key after
//     this lease expired and still holds it, or completed it.
//   release(key, owner, memory): compare and release; the fencing counter is kept.
//   record(key, slot, keep, ahead): moves "<prefix>:slot:{<job>}" (the latest slot, in
//     seconds since the epoch) forward only, answering 1 when it moved, and never past
//     the server's clock by more than `ahead` ms: a replica whose clock is fast would
//     otherwise move it into the future, and every replica would then wait for that.
#define SKED_REDIS_SETTLE_FUNCTIONS                                                                          \
    "local function not_ours(key)\n"                                                                         \
    "  return redis.error_reply('sked: ' .. key .. ' holds a value sked did not write')\n"                   \
    "end\n"                                                                                                  \
    "local function read(key)\n"                                                                             \
    "  local v = redis.pcall('GET', key)\n"                                                                  \
    "  if type(v) == 'table' then return v end\n"                                                            \
    "  if not v then return 'f', 0, 0, '' end\n"                                                             \
    "  local s, f, u, o = string.match(v, '^([rdf])|(%d+)|(%d+)|(.*)$')\n"                                   \
    "  if not s then return not_ours(key) end\n"                                                             \
    "  return s, tonumber(f), tonumber(u), o\n"                                                              \
    "end\n"                                                                                                  \
    "local function complete(key, owner, keep, memory)\n"                                                    \
    "  local state, fence, untl, holder = read(key)\n"                                                       \
    "  if type(state) == 'table' then return state end\n"                                                    \
    "  if holder ~= owner and (state == 'd' or (state == 'r' and untl > now)) then return 0 end\n"           \
    "  redis.call('SET', key, string.format('d|%d|%d|', fence, now + keep) .. owner, 'PX', keep + memory)\n" \
    "  return 1\n"                                                                                           \
    "end\n"                                                                                                  \
    "local function release(key, owner, memory)\n"                                                           \
    "  local state, fence, untl, holder = read(key)\n"                                                       \
    "  if type(state) == 'table' then return state end\n"                                                    \
    "  if state ~= 'r' or holder ~= owner or untl <= now then return 0 end\n"                                \
    "  redis.call('SET', key, string.format('f|%d|0|', fence), 'PX', memory)\n"                              \
    "  return 1\n"                                                                                           \
    "end\n"                                                                                                  \
    "local function record(key, slot, keep, ahead)\n"                                                        \
    "  local v = redis.pcall('GET', key)\n"                                                                  \
    "  if type(v) == 'table' then return v end\n"                                                            \
    "  if v and not string.match(v, '^%-?%d+$') then return not_ours(key) end\n"                             \
    "  local early = tonumber(slot) * 1000 - now\n"                                                          \
    "  if early > ahead then\n"                                                                              \
    "    return redis.error_reply(string.format('sked: slot %s of %s is %d s ahead of the server clock; '\n" \
    "      .. 'this replica\\'s clock is fast', slot, key, math.floor(early / 1000)))\n"                     \
    "  end\n"                                                                                                \
    "  if v and tonumber(v) >= tonumber(slot) then return 0 end\n"                                           \
    "  redis.call('SET', key, slot, 'PX', keep)\n"                                                           \
    "  return 1\n"                                                                                           \
    "end\n"

// ARGV: owner, fence memory ms.
inline constexpr std::string_view release_source =
    SKED_REDIS_NOW SKED_REDIS_SETTLE_FUNCTIONS "return release(KEYS[1], ARGV[1], tonumber(ARGV[2]))\n";

// ARGV: owner, keep ms, fence memory ms.
inline constexpr std::string_view complete_source = SKED_REDIS_NOW SKED_REDIS_SETTLE_FUNCTIONS
    "return complete(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))\n";

// ARGV: token, fence memory ms. Redlock's write-back: the counter becomes at least
// the token, so a later quorum (which shares a server with this one) issues more.
inline constexpr std::string_view raise_fence_source = SKED_REDIS_READ("KEYS[1]")
    "local token = tonumber(ARGV[1])\n"
    "if not v then\n"
    "  redis.call('SET', KEYS[1], string.format('f|%d|0|', token), 'PX', tonumber(ARGV[2]))\n"
    "elseif fence < token then\n"
    "  redis.call('SET', KEYS[1], string.format('%s|%d|%d|', state, token, untl) .. owner, 'KEEPTTL')\n"
    "end\n"
    "return 1\n";

// Slot progress, "<prefix>:slot:{<job>}": the number (nil when absent); slot_record
// moves it (record() above).
inline constexpr std::string_view slot_read_source =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v and not string.match(v, '^%-?%d+$') then\n"
    "  return redis.error_reply('sked: ' .. KEYS[1] .. ' holds a value sked did not write')\n"
    "end\n"
    "if not v then return false end\n"
    "return tonumber(v)\n";

// ARGV: slot, keep ms, ahead ms.
inline constexpr std::string_view slot_record_source = SKED_REDIS_NOW SKED_REDIS_SETTLE_FUNCTIONS
    "return record(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))\n";

// The ends of many runs on one server, in one script (one TIME, one start). ARGV: fence
// memory ms, slot record keep ms, ahead ms, then 4 per run: 'c' (complete), 'r'
// (release) or '-' (neither), owner, keep ms, slot ('' for no record). KEYS: per run,
// its run key unless '-', then its slot record's key if it has a slot. Answers 2 per
// run: the complete's or release's (0 for '-'), then the record's (0 for none).
inline constexpr std::string_view settle_source = SKED_REDIS_NOW SKED_REDIS_SETTLE_FUNCTIONS
    "local memory, slot_keep, ahead = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local out, k = {}, 1\n"
    "for i = 4, #ARGV, 4 do\n"
    "  local op, owner, slot, j = ARGV[i], ARGV[i + 1], ARGV[i + 3], (i - 4) / 2\n"
    "  out[j + 1] = 0\n"
    "  out[j + 2] = 0\n"
    "  if op == 'c' then\n"
    "    out[j + 1] = complete(KEYS[k], owner, tonumber(ARGV[i + 2]), memory)\n"
    "    k = k + 1\n"
    "  elseif op == 'r' then\n"
    "    out[j + 1] = release(KEYS[k], owner, memory)\n"
    "    k = k + 1\n"
    "  end\n"
    "  if slot ~= '' then\n"
    "    out[j + 2] = record(KEYS[k], slot, slot_keep, ahead)\n"
    "    k = k + 1\n"
    "  end\n"
    "end\n"
    "return out\n";

// For each of KEYS: 1 when it was claimed and its lease ran out with no completion or
// release (the record outlives the lease by the fence memory), else 0.
inline constexpr std::string_view abandoned_source = SKED_REDIS_NOW
    "local out = {}\n"
    "for i, key in ipairs(KEYS) do\n" SKED_REDIS_READ("key")
    "  out[i] = (state == 'r' and untl <= now) and 1 or 0\n"
    "end\n"
    "return out\n";

// ---- durable one-off jobs ---------------------------------------------------------------
// A kind's jobs live under one hash tag, "<prefix>:<part>:{<kind>}", so a kind is one
// Redis Cluster slot:
//     jobs:<b> hash key -> "<attempt>|<slot s>|<payload>", or "d" once finished; the
//                  key's bucket b (job_bucket, 0-16383) spreads a kind over small hashes,
//                  which Redis keeps as compact listpacks (a tenth of a big hash's cost
//                  per field) up to 128 fields each, so up to 2 million jobs a kind
//     due     zset  key -> when it may be taken (ms, the callers' wall clock)
//     flight  zset  key -> when its taker's lease ends (ms, the server's clock)
//     held    hash  key -> "<owner>|<fence>" while taken
//     done    zset  key -> until when a finished key refuses to be created again
//     fence   string: the last fencing token issued for the kind
// A pending job costs one hash field and one zset member; what a taken job needs more
// (owner, fence, lease) lives in `flight` and `held`, which stay small.
// KEYS order, for every script: jobs (the key's bucket; for take, the stem
// "<prefix>:jobs:{<kind>}" the buckets hang from), due, flight, held, done, fence.

// The caller's owner token must be the one the job was taken with (ARGV[1] key, ARGV[2] owner).
#define SKED_REDIS_HELD                                \
    "local h = redis.call('HGET', KEYS[4], ARGV[1])\n" \
    "if not h or string.sub(h, 1, #ARGV[2] + 1) ~= ARGV[2] .. '|' then return 0 end\n"

// ARGV: key, run_at ms, record. 0 created, 1 exists, 2 done (kept).
inline constexpr std::string_view job_create_source =
    "if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[3]) == 1 then\n"
    "  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])\n"
    "  return 0\n"
    "end\n"
    "if redis.call('HGET', KEYS[1], ARGV[1]) ~= 'd' then return 1 end\n" SKED_REDIS_NOW
    "local kept = redis.call('ZSCORE', KEYS[5], ARGV[1])\n"
    "if kept and tonumber(kept) > now then return 2 end\n"
    "redis.call('ZREM', KEYS[5], ARGV[1])\n"
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])\n"
    "redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])\n"
    "return 0\n";

// ARGV: key. 1 when a pending or running job was removed.
inline constexpr std::string_view job_cancel_source =
    "local v = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "if not v or v == 'd' then return 0 end\n"
    "redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "redis.call('ZREM', KEYS[3], ARGV[1])\n"
    "redis.call('HDEL', KEYS[4], ARGV[1])\n"
    "return 1\n";

// ARGV: now ms (the caller's wall clock), n, ttl ms, owner. Takes up to n jobs: first
// those whose taker's lease ran out, then the due ones, earliest first. Answers
// {pending, in flight, next due or -1, then per job: key, record, fence, run_at}.
inline constexpr std::string_view job_take_source = SKED_REDIS_NOW
    "local function jobs(k)\n"  // job_bucket, the same in Lua
    "  local h = 0\n"
    "  for i = 1, #k do h = (h * 31 + string.byte(k, i)) % 16384 end\n"
    "  return KEYS[1] .. ':' .. h\n"
    "end\n"
    "local gone = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, 64)\n"
    "for _, k in ipairs(gone) do\n"
    "  if redis.call('HGET', jobs(k), k) == 'd' then redis.call('HDEL', jobs(k), k) end\n"
    "  redis.call('ZREM', KEYS[5], k)\n"
    "end\n"
    "local n = tonumber(ARGV[2])\n"
    "local picked, at = {}, {}\n"
    "for _, k in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, n)) do\n"
    "  picked[#picked + 1] = k\n"
    "  at[#at + 1] = ARGV[1]\n"
    "end\n"
    "if #picked < n then\n"
    "  local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, n - #picked)\n"
    "  for i = 1, #due, 2 do\n"
    "    picked[#picked + 1] = due[i]\n"
    "    at[#at + 1] = due[i + 1]\n"
    "  end\n"
    "end\n"
    "local fence = math.max(tonumber(redis.call('GET', KEYS[6]) or '0'), now_us)\n"
    "local deadline = now + tonumber(ARGV[3])\n"
    "local out = {0, 0, -1}\n"
    "for i, k in ipairs(picked) do\n"
    "  local v = redis.call('HGET', jobs(k), k)\n"
    "  redis.call('ZREM', KEYS[2], k)\n"
    "  if v and v ~= 'd' then\n"
    "    fence = fence + 1\n"
    "    local token = string.format('%d', fence)\n"
    "    redis.call('HSET', KEYS[4], k, ARGV[4] .. '|' .. token)\n"
    "    redis.call('ZADD', KEYS[3], deadline, k)\n"
    "    out[#out + 1] = k\n"
    "    out[#out + 1] = v\n"
    "    out[#out + 1] = token\n"
    "    out[#out + 1] = at[i]\n"
    "  else\n"  // cancelled, or finished: nothing to hand out
    "    redis.call('ZREM', KEYS[3], k)\n"
    "    redis.call('HDEL', KEYS[4], k)\n"
    "  end\n"
    "end\n"
    "redis.call('SET', KEYS[6], string.format('%d', fence))\n"
    "out[1] = redis.call('ZCARD', KEYS[2])\n"
    "out[2] = redis.call('ZCARD', KEYS[3])\n"
    "local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')\n"
    "if first[2] then out[3] = tonumber(first[2]) end\n"
    "return out\n";

// ARGV: key, owner, ttl ms. 1 renewed; 0 not the caller's, or its lease ran out.
inline constexpr std::string_view job_renew_source = SKED_REDIS_HELD SKED_REDIS_NOW
    "local d = redis.call('ZSCORE', KEYS[3], ARGV[1])\n"
    "if not d or tonumber(d) <= now then return 0 end\n"
    "redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[1])\n"
    "return 1\n";

// ARGV: key, owner, keep ms. The job is done: kept as "d" for `keep`.
inline constexpr std::string_view job_finish_source = SKED_REDIS_HELD SKED_REDIS_NOW
    "redis.call('HDEL', KEYS[4], ARGV[1])\n"
    "redis.call('ZREM', KEYS[3], ARGV[1])\n"
    "redis.call('HSET', KEYS[1], ARGV[1], 'd')\n"
    "redis.call('ZADD', KEYS[5], now + tonumber(ARGV[3]), ARGV[1])\n"
    "return 1\n";

// ARGV: key, owner, run_at ms, attempt. Back to pending (a retry, or a release).
inline constexpr std::string_view job_reschedule_source = SKED_REDIS_HELD
    "local v = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "local rest = v and string.match(v, '^%d+(|.*)$')\n"
    "if not rest then return 0 end\n"
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[4] .. rest)\n"
    "redis.call('HDEL', KEYS[4], ARGV[1])\n"
    "redis.call('ZREM', KEYS[3], ARGV[1])\n"
    "redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])\n"
    "return 1\n";

#undef SKED_REDIS_HELD
#undef SKED_REDIS_NOW
#undef SKED_REDIS_READ
#undef SKED_REDIS_PARSE
#undef SKED_REDIS_SETTLE_FUNCTIONS

inline constexpr std::array<std::string_view, script_count> script_sources = {
    claim_source,     renew_source,       release_source,    complete_source,       raise_fence_source,
    slot_read_source, slot_record_source, abandoned_source,  job_create_source,     job_cancel_source,
    job_take_source,  job_renew_source,   job_finish_source, job_reschedule_source, settle_source};

/// One script run: which script, on which keys, with which ARGV.
struct script_call {
    script which;
    std::vector<std::string> keys;
    std::vector<std::string> args;
};

using sked::detail::drift_allowance;

/// "<prefix>:<kind>:{<name>}": the braces make the name the Redis Cluster hash tag.
inline std::string record_key(std::string_view prefix, std::string_view kind, std::string_view name) {
    std::string key{prefix};
    key.append(":").append(kind).append(":{").append(name).append("}");
    return key;
}

inline std::string ms_text(std::chrono::milliseconds duration) { return std::to_string(duration.count()); }

/// A connection that runs the lease scripts. Not thread-safe; its users lock.
class script_client {
public:
    explicit script_client(options settings) : connection_(std::move(settings)) {}

    [[nodiscard]] const options& settings() const noexcept { return connection_.settings(); }
    [[nodiscard]] std::string address() const { return connection_.address(); }
    connection& link() noexcept { return connection_; }

    /// Runs the calls in one pipeline; one reply per call (error replies included).
    result<std::vector<reply_ptr>, backend_error> run(const std::vector<script_call>& calls) {
        if (auto failed = start(calls)) return *std::move(failed);
        return finish(calls);
    }

    /// Sends the calls without waiting (Redlock sends to every server, then reads).
    std::optional<backend_error> start(const std::vector<script_call>& calls) {
        reused_ = connection_.connected();
        auto failed = send(calls);
        if (failed && failed->code == backend_errc::unreachable && reused_) {
            reused_ = false;  // a stale connection: the server restarted or dropped it
            failed = send(calls);
        }
        return failed;
    }

    /// Reads the replies of start(). A connection that turns out to be stale is
    /// replaced and the calls sent once more: a server that closed it did not run
    /// them, and if it did, each script is safe to repeat (a repeated claim answers
    /// held_elsewhere, never a second holder). Calls the server answered with NOSCRIPT
    /// run again after loading the scripts.
    result<std::vector<reply_ptr>, backend_error> finish(const std::vector<script_call>& calls) {
        auto replies = receive(calls);
        if (!replies && replies.error().code == backend_errc::unreachable && reused_) {
            reused_ = false;
            if (auto failed = send(calls)) return *std::move(failed);
            replies = receive(calls);
        }
        if (!replies) return replies.error();
        std::vector<std::size_t> forgotten;
        for (std::size_t i = 0; i < replies->size(); ++i) {
            const auto& reply = *(*replies)[i];
            if (reply.type == REDIS_REPLY_ERROR && text_of(reply).starts_with("NOSCRIPT")) forgotten.push_back(i);
        }
        if (forgotten.empty()) return replies;
        if (auto failed = load()) return *std::move(failed);
        std::vector<script_call> again;
        for (auto i : forgotten)
            again.push_back(calls[i]);
        if (auto failed = connection_.send(commands_for(again))) return *std::move(failed);
        auto retried = receive(again);
        if (!retried) return retried.error();
        for (std::size_t j = 0; j < forgotten.size(); ++j)
            (*replies)[forgotten[j]] = std::move((*retried)[j]);
        return replies;
    }

    /// One call after ASKING: Redis Cluster answered ASK, its slot is migrating here.
    result<reply_ptr, backend_error> run_asking(const script_call& call) {
        const std::vector<script_call> one{call};
        asking_ = true;
        auto replies = run(one);
        asking_ = false;
        if (!replies) return replies.error();
        return std::move(replies->front());
    }

    /// How many times the scripts were loaded (once, plus once per NOSCRIPT recovery).
    [[nodiscard]] std::size_t loads() const noexcept { return loads_; }

private:
    [[nodiscard]] bool loaded() const noexcept { return !shas_[0].empty(); }

    std::optional<backend_error> send(const std::vector<script_call>& calls) {
        if (auto bad = wait_settings_problem()) return bad;
        if (!loaded()) {
            if (auto failed = load()) return failed;
        }
        return connection_.send(commands_for(calls));
    }

    // WAIT's timeout must be above zero (0 waits for ever) and end before the reply's.
    std::optional<backend_error> wait_settings_problem() const {
        const auto& s = settings();
        if (s.wait_replicas <= 0 || (s.wait_timeout.count() > 0 && s.wait_timeout < s.command_timeout))
            return std::nullopt;
        return backend_error{backend_errc::invalid_argument,
                             "wait_timeout must be above 0 and below command_timeout (" +
                                 std::to_string(s.command_timeout.count()) + " ms), got " +
                                 std::to_string(s.wait_timeout.count()) + " ms"};
    }

    // Whether the calls are followed by WAIT: asked for, and one of them may write.
    bool waits(const std::vector<script_call>& calls) const {
        return settings().wait_replicas > 0 && std::any_of(calls.begin(), calls.end(), [](const script_call& c) {
                   return c.which != script::slot_read && c.which != script::abandoned;
               });
    }

    // The replies of the calls, and, with wait_replicas, of the WAIT after them.
    result<std::vector<reply_ptr>, backend_error> receive(const std::vector<script_call>& calls) {
        const auto& s = settings();
        const bool waited = waits(calls);
        auto replies = connection_.receive((asking_ ? 1 : 0) + calls.size() + (waited ? 1 : 0));
        if (replies && asking_) replies->erase(replies->begin());
        if (!replies || !waited) return replies;
        // Nothing written, nothing to wait for: e.g. a cluster node that answered MOVED
        // to every call is a replica now, and refuses WAIT.
        const bool wrote = std::any_of(replies->begin(), replies->end() - 1,
                                       [](const reply_ptr& reply) { return reply->type != REDIS_REPLY_ERROR; });
        const auto& acked = *replies->back();
        if (!wrote) {
            replies->pop_back();
            return replies;
        }
        if (acked.type != REDIS_REPLY_INTEGER)
            return backend_error{backend_errc::protocol,
                                 "WAIT on " + address() + " answered " + std::string(type_name(acked.type))};
        if (acked.integer < s.wait_replicas)
            return backend_error{backend_errc::timeout,
                                 "WAIT on " + address() + ": " + std::to_string(acked.integer) + " of " +
                                     std::to_string(s.wait_replicas) + " replicas had the writes within " +
                                     std::to_string(s.wait_timeout.count()) + " ms (the master applied them)"};
        replies->pop_back();
        return replies;
    }

    // Loads the scripts, after checking the server runs them: redis.REDIS_VERSION is
    // there from Redis 7.0, which the claim script's SET NX GET needs.
    std::optional<backend_error> load() {
        std::vector<command> loads{{"EVAL", "return redis.REDIS_VERSION", "0"}};
        for (auto source : script_sources)
            loads.push_back({"SCRIPT", "LOAD", std::string(source)});
        auto replies = connection_.pipeline(loads);
        if (!replies) return replies.error();
        if (auto old = version_problem(*replies->front())) return old;
        for (std::size_t i = 0; i < script_count; ++i) {
            const auto& reply = *(*replies)[i + 1];
            if (reply.type == REDIS_REPLY_ERROR) return error_from_reply(reply, "SCRIPT LOAD on " + address());
            if (reply.type != REDIS_REPLY_STRING) {
                return backend_error{backend_errc::protocol,
                                     "SCRIPT LOAD on " + address() + " answered " + std::string(type_name(reply.type))};
            }
            shas_[i] = std::string(text_of(reply));
        }
        ++loads_;
        return std::nullopt;
    }

    std::optional<backend_error> version_problem(const redisReply& version) const {
        if (version.type == REDIS_REPLY_STRING) return std::nullopt;
        if (version.type == REDIS_REPLY_ERROR) return error_from_reply(version, "asking the version of " + address());
        return backend_error{backend_errc::protocol, address() + " runs a Redis older than 7.0 (its scripts have no " +
                                                         "redis.REDIS_VERSION); sked needs 7.0 or later"};
    }

    std::vector<command> commands_for(const std::vector<script_call>& calls) const {
        std::vector<command> commands;
        commands.reserve(calls.size() + 2);
        if (asking_) commands.push_back({"ASKING"});
        for (const auto& call : calls) {
            command args{"EVALSHA", shas_[static_cast<std::size_t>(call.which)], std::to_string(call.keys.size())};
            args.insert(args.end(), call.keys.begin(), call.keys.end());
            args.insert(args.end(), call.args.begin(), call.args.end());
            commands.push_back(std::move(args));
        }
        const auto& s = settings();
        if (waits(calls))
            commands.push_back({"WAIT", std::to_string(s.wait_replicas), std::to_string(s.wait_timeout.count())});
        return commands;
    }

    connection connection_;
    std::array<std::string, script_count> shas_;
    std::size_t loads_ = 0;
    bool reused_ = false;  // the last start() went over a connection opened earlier
    bool asking_ = false;  // within run_asking(): each pipeline begins with ASKING
};

/// The claim script's answer for one key, checked.
struct claim_reply {
    grant_status status;
    fence_token fence;
    std::chrono::milliseconds remaining;
};

/// The claim script's answer for `count` keys claimed for `ttl`, checked: the server
/// clock in µs, then per key 0 (acquired with that token) or {status, fence, ms}.
inline result<std::vector<claim_reply>, backend_error> parse_claims(const redisReply& reply, std::size_t count,
                                                                    std::chrono::milliseconds ttl,
                                                                    std::string_view where) {
    const auto wrong = [&](std::string what) {
        return backend_error{backend_errc::protocol, "claim on " + std::string(where) + " answered " + what};
    };
    if (reply.type == REDIS_REPLY_ERROR) return error_from_reply(reply, "claim on " + std::string(where));
    const auto integers = [&] {
        return std::all_of(reply.element, reply.element + reply.elements,
                           [](const redisReply* e) { return e->type == REDIS_REPLY_INTEGER; });
    };
    if (reply.type != REDIS_REPLY_ARRAY || reply.elements < 1 + count || !integers())
        return wrong(std::string(type_name(reply.type)) +
                     " where an array of integers, the first the server's clock, " + "then 1 or 3 per key (" +
                     std::to_string(count) + " keys), was expected");
    const auto fresh = static_cast<fence_token>(reply.element[0]->integer);
    std::vector<claim_reply> claims;
    claims.reserve(count);
    std::size_t at = 1;
    for (; at < reply.elements && claims.size() < count; ++at) {
        const auto status = reply.element[at]->integer;
        if (status == 0) {
            claims.push_back({grant_status::acquired, fresh, ttl});
            continue;
        }
        if (status < 1 || status > 3 || at + 2 >= reply.elements)
            return wrong("status " + std::to_string(status) + " for key " + std::to_string(claims.size() + 1) + " of " +
                         std::to_string(count));
        claims.push_back({status == 3 ? grant_status::acquired : static_cast<grant_status>(status),
                          static_cast<fence_token>(reply.element[at + 1]->integer),
                          std::chrono::milliseconds{reply.element[at + 2]->integer}});
        at += 2;
    }
    if (claims.size() != count || at != reply.elements)
        return wrong("an array of " + std::to_string(reply.elements) + " integers that does not fit " +
                     std::to_string(count) + " keys");
    return claims;
}

/// The 0/1 answer of renew, release, complete and raise_fence.
inline result<bool, backend_error> parse_flag(const redisReply& reply, std::string_view doing) {
    if (reply.type == REDIS_REPLY_ERROR) return error_from_reply(reply, doing);
    if (reply.type != REDIS_REPLY_INTEGER || (reply.integer != 0 && reply.integer != 1)) {
        return backend_error{
            backend_errc::protocol,
            std::string(doing) + " answered " + std::string(type_name(reply.type)) + " where 0 or 1 was expected"};
    }
    return reply.integer == 1;
}

/// parse_flag with the text of what was done made only when the reply is not a flag: a
/// batch's replies are nearly all flags, and need no text.
template <std::invocable Doing>
result<bool, backend_error> parse_flag(const redisReply& reply, Doing&& doing) {
    if (reply.type == REDIS_REPLY_INTEGER && (reply.integer == 0 || reply.integer == 1)) return reply.integer == 1;
    const std::string text = std::forward<Doing>(doing)();
    return parse_flag(reply, std::string_view{text});
}

using sked::detail::owner_tokens;

}  // namespace sked::redis::detail
