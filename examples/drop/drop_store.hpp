// examples/drop/drop_store.hpp — the drops spawned, one per activity window: the database.
//
// In a service this is a drops table with a unique window column, and a single-row
// drop_fence (the highest fencing token that began a drop):
//
//     begin:  UPDATE drop_fence SET token = :fence WHERE token <= :fence;   -- no row: stale
//             SELECT 1 FROM drops WHERE window = :window;                  -- a row: already done
//     commit: INSERT INTO drops (window, fence) SELECT :window, :fence
//                 WHERE (SELECT token FROM drop_fence) = :fence;           -- nothing: superseded
//
// A drop takes a while to spawn; a runner that stalled mid-way (its lease ran out and a
// newer run began) finds at commit that its token is no longer the newest, and writes nothing.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>

namespace drop {

enum class begin_result { started, already_dropped, stale };

class drop_store {
public:
    begin_result begin(std::chrono::sys_seconds window, std::uint64_t fence) {
        std::lock_guard hold{mutex_};
        if (fence < fence_) return begin_result::stale;
        if (drops_.contains(window)) return begin_result::already_dropped;
        fence_ = fence;
        max_spawning_ = std::max(max_spawning_, ++spawning_);
        return begin_result::started;
    }
    /// False when a newer run began meanwhile: nothing is written.
    bool commit(std::chrono::sys_seconds window, std::uint64_t fence) {
        std::lock_guard hold{mutex_};
        --spawning_;
        if (fence != fence_) return false;
        drops_.emplace(window, fence);
        return true;
    }
    void abandon() {
        std::lock_guard hold{mutex_};
        --spawning_;
    }

    [[nodiscard]] std::size_t drops() const {
        std::lock_guard hold{mutex_};
        return drops_.size();
    }
    /// The most drops ever being spawned at once: 1 unless runs overlapped.
    [[nodiscard]] std::size_t max_spawning_at_once() const {
        std::lock_guard hold{mutex_};
        return max_spawning_;
    }

private:
    mutable std::mutex mutex_;
    std::uint64_t fence_ = 0;
    std::map<std::chrono::sys_seconds, std::uint64_t> drops_;
    std::size_t spawning_ = 0, max_spawning_ = 0;
};

}  // namespace drop
