// Which rows of a job table collide with a given row, without looking at every pair.
//
// Rows are grouped by period. Two rows a and b collide when, with g = gcd of their
// periods and r = their offsets' difference modulo g, b starts while a runs or a starts
// while b runs (sked::overlap_of). So b's offset modulo g lies in a window around a's:
// from (a's residue - the longest duration in b's group + 1) to (a's residue + a's
// duration). Each group keeps its rows sorted by residue modulo each g asked for, so a
// query costs a binary search per group and the candidates in the window, each checked
// exactly. A 100,000-row table with a few periods is checked in well under a second; a
// table whose windows cover whole periods degrades to comparing every pair.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <span>
#include <utility>
#include <vector>

#include <sked/stagger.hpp>

namespace sked::tool {

class collision_index {
public:
    explicit collision_index(std::span<const stagger_job> rows) : rows_(rows) {
        for (std::size_t i = 0; i < rows.size(); ++i)
            groups_[rows[i].period].members.push_back(i);
        for (auto& [period, group] : groups_)
            for (auto i : group.members)
                group.longest = std::max(group.longest, rows[i].duration);
    }

    /// Calls visit(b) for every row b != a that collides with row a.
    template <class Visit>
    void for_each_partner(std::size_t a, Visit&& visit) {
        const auto& row = rows_[a];
        for (auto& [period, group] : groups_) {
            const std::uint32_t g = std::gcd(row.period, period);
            const std::uint32_t r = row.offset % g;
            const std::uint64_t before = group.longest - 1, width = before + row.duration;
            if (width >= g) {  // the window is the whole period: every row is a candidate
                for (auto b : group.members)
                    check(a, b, visit);
                continue;
            }
            const auto& sorted = group.by_residue(rows_, g);
            const std::uint32_t from = static_cast<std::uint32_t>((r + g - before % g) % g);
            const std::uint32_t to = static_cast<std::uint32_t>((from + width) % g);  // exclusive
            if (from < to) {
                scan(sorted, from, to, a, visit);
            } else {
                scan(sorted, from, g, a, visit);
                scan(sorted, 0, to, a, visit);
            }
        }
    }

private:
    struct period_group {
        std::vector<std::size_t> members;
        std::uint32_t longest = 0;
        std::map<std::uint32_t, std::vector<std::pair<std::uint32_t, std::size_t>>> sorted;  // by g

        const std::vector<std::pair<std::uint32_t, std::size_t>>& by_residue(std::span<const stagger_job> rows,
                                                                             std::uint32_t g) {
            auto [at, fresh] = sorted.try_emplace(g);
            if (fresh) {
                at->second.reserve(members.size());
                for (auto i : members)
                    at->second.emplace_back(rows[i].offset % g, i);
                std::sort(at->second.begin(), at->second.end());
            }
            return at->second;
        }
    };

    template <class Visit>
    void scan(const std::vector<std::pair<std::uint32_t, std::size_t>>& sorted, std::uint32_t from, std::uint32_t to,
              std::size_t a, Visit& visit) const {
        auto at = std::lower_bound(sorted.begin(), sorted.end(), std::pair<std::uint32_t, std::size_t>{from, 0});
        for (; at != sorted.end() && at->first < to; ++at)
            check(a, at->second, visit);
    }

    template <class Visit>
    void check(std::size_t a, std::size_t b, Visit& visit) const {
        if (a != b && overlap_of(rows_[a], rows_[b]).runs) visit(b);
    }

    std::span<const stagger_job> rows_;
    std::map<std::uint32_t, period_group> groups_;
};

}  // namespace sked::tool
