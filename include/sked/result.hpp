// sked/result.hpp — a value or an error, for calls that can fail without exceptions.
//
// std::expected is C++23; sked targets C++20, so this is the small subset we need,
// stored in a std::variant. With trivially copyable alternatives (every result of the
// cron parser) it is itself trivially copyable and usable in constant expressions;
// the backends return results that hold strings.
#pragma once

#include <type_traits>
#include <utility>
#include <variant>

namespace sked {

/// Holds either a value of type T or an error of type E. Check with `has_value()` or
/// `if (r)`, then read `*r` / `r->member` or `r.error()`. Reading the wrong alternative
/// is a precondition violation: std::terminate.
template <class T, class E>
class result {
    static_assert(!std::is_same_v<T, E>, "sked::result needs distinct value and error types");

public:
    constexpr result(const T& value) noexcept(std::is_nothrow_copy_constructible_v<T>)
        : storage_(std::in_place_index<0>, value) {}
    constexpr result(T&& value) noexcept(std::is_nothrow_move_constructible_v<T>)
        : storage_(std::in_place_index<0>, std::move(value)) {}
    constexpr result(const E& error) noexcept(std::is_nothrow_copy_constructible_v<E>)
        : storage_(std::in_place_index<1>, error) {}
    constexpr result(E&& error) noexcept(std::is_nothrow_move_constructible_v<E>)
        : storage_(std::in_place_index<1>, std::move(error)) {}

    [[nodiscard]] constexpr bool has_value() const noexcept { return storage_.index() == 0; }
    constexpr explicit operator bool() const noexcept { return has_value(); }

    constexpr const T& operator*() const& noexcept { return std::get<0>(storage_); }
    constexpr T& operator*() & noexcept { return std::get<0>(storage_); }
    constexpr T&& operator*() && noexcept { return std::move(std::get<0>(storage_)); }
    constexpr const T* operator->() const noexcept { return &std::get<0>(storage_); }
    constexpr T* operator->() noexcept { return &std::get<0>(storage_); }
    constexpr const T& value() const& noexcept { return **this; }
    constexpr const E& error() const& noexcept { return std::get<1>(storage_); }

    /// The value, or `fallback` when this holds an error.
    constexpr T value_or(const T& fallback) const { return has_value() ? **this : fallback; }

    /// Equal when both hold equal values or both hold equal errors.
    friend constexpr bool operator==(const result& a, const result& b) { return a.storage_ == b.storage_; }

private:
    std::variant<T, E> storage_;
};

}  // namespace sked
