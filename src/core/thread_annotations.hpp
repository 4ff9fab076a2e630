// Clang thread-safety annotations, under a CS_ prefix so they cannot clash with another
// library's GUARDED_BY.
//
// Built with clang++ and -Wthread-safety (`make check-thread-safety`), the compiler checks
// that every member marked CS_GUARDED_BY(mu_) is touched only with mu_ held, and that every
// function marked CS_REQUIRES(mu_) is called with it held. Other compilers see nothing.
// Locks are taken through core/mutex.hpp and core/mutex_lock.hpp: libstdc++'s std::mutex and
// std::lock_guard carry no annotations, so the analysis cannot see them.
// Reference: https://clang.llvm.org/docs/ThreadSafetyAnalysis.html
#pragma once

#if defined(__clang__)
#define CS_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define CS_THREAD_ANNOTATION(x)
#endif

// On a class: its objects are locks ("mutex" names the kind in diagnostics).
#define CS_CAPABILITY(name) CS_THREAD_ANNOTATION(capability(name))
// On a class: an RAII object that holds a lock for its lifetime.
#define CS_SCOPED_CAPABILITY CS_THREAD_ANNOTATION(scoped_lockable)
// On a member: read or written only with `mu` held.
#define CS_GUARDED_BY(mu) CS_THREAD_ANNOTATION(guarded_by(mu))
// On a pointer member: what it points to is read or written only with `mu` held.
#define CS_PT_GUARDED_BY(mu) CS_THREAD_ANNOTATION(pt_guarded_by(mu))
// On a function: callers must hold these locks.
#define CS_REQUIRES(...) CS_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// On a function: callers must not hold these locks (the function takes them).
#define CS_EXCLUDES(...) CS_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// On a function: it returns with these locks held (none named: `this`).
#define CS_ACQUIRE(...) CS_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
// On a function: it releases these locks (none named: `this`).
#define CS_RELEASE(...) CS_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
// On a function returning bool: when it returns `result`, it holds the locks.
#define CS_TRY_ACQUIRE(...) CS_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// On a function: it returns a reference to the lock `x`.
#define CS_RETURN_CAPABILITY(x) CS_THREAD_ANNOTATION(lock_returned(x))
// On a function: not checked. Each use says why the analysis cannot follow it.
#define CS_NO_THREAD_SAFETY_ANALYSIS CS_THREAD_ANNOTATION(no_thread_safety_analysis)
