// sked/result.hpp — a value or an error, for calls that can fail without exceptions.
//
// std::expected is C++23; sked targets C++20, so this is the small subset we need.
// Both alternatives must be trivially copyable: every result in sked's core is a
// plain value, which keeps result usable in constant expressions.
#pragma once

#include <type_traits>
#include <utility>

namespace sked {

/// Holds either a value of type T or an error of type E. Check with `has_value()` or
/// `if (r)`, then read `*r` / `r->member` or `r.error()`. Reading the wrong alternative
/// is a precondition violation (checked by an assertion in debug builds).
template <class T, class E>
class result {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_copyable_v<E>,
                  "sked::result holds trivially copyable values only");

public:
    constexpr result(const T& value) noexcept : value_(value), has_value_(true) {}
    constexpr result(const E& error) noexcept : error_(error), has_value_(false) {}

    [[nodiscard]] constexpr bool has_value() const noexcept { return has_value_; }
    constexpr explicit operator bool() const noexcept { return has_value_; }

    constexpr const T& operator*() const noexcept { return value_; }
    constexpr const T* operator->() const noexcept { return &value_; }
    constexpr const T& value() const noexcept { return value_; }
    constexpr const E& error() const noexcept { return error_; }

    /// The value, or `fallback` when this holds an error.
    constexpr T value_or(const T& fallback) const noexcept { return has_value_ ? value_ : fallback; }

    /// Equal when both hold equal values or both hold equal errors.
    friend constexpr bool operator==(const result& a, const result& b) noexcept {
        if (a.has_value_ != b.has_value_) return false;
        return a.has_value_ ? a.value_ == b.value_ : a.error_ == b.error_;
    }

private:
    union {
        T value_;
        E error_;
    };
    bool has_value_;
};

}  // namespace sked
