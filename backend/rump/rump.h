//go:build rump && cgo

// The C half of the rump backend. librump and its components are loaded
// with dlopen at run time (nothing is linked at build time), so a -tags rump
// build needs only a C compiler; the kernel itself is found through
// RUMP_PREFIX when New runs.

#ifndef ANYK_RUMP_H
#define ANYK_RUMP_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

// A call frame, filled on the calling goroutine's stack and read by
// anyk_call on the system stack. It holds numbers only (addresses travel as
// uintptr), so the garbage collector has nothing to find in it. Go mirrors
// it as type frame in rump.go.
struct anyk_frame {
	uintptr_t ctx; // struct anyk_ctx *
	uintptr_t nr;
	uintptr_t args[6];
	uintptr_t r1, r2;
	uintptr_t err; // NetBSD errno, 0 on success
};

// What a call binds: a process (any free lwp of it), one lwp, or the
// remote server's connection.
enum {
	ANYK_PROC = 1,
	ANYK_LWP = 2,
	ANYK_CLIENT = 3,
};

#define ANYK_SLOTS 64

struct anyk_lwp;

struct anyk_ctx {
	int kind;
	int pid;
	int closed;            // atomic; the process or lwp was released
	struct anyk_lwp *slots[ANYK_SLOTS]; // ANYK_PROC: free lwps, taken by atomic exchange
	struct anyk_lwp *all;  // ANYK_PROC: every lwp record, under mu
	void *lwp;             // ANYK_LWP: the lwp
	pthread_mutex_t mu;    // ANYK_LWP: one call at a time, as on a thread
};

void anyk_call(void *frame);

struct anyk_abi {
	int getpid;
	int esrch, enomem, enosys, eopnotsupp, eio, enotconn;
};

void anyk_set_abi(struct anyk_abi *a);

int anyk_load(const char *umbrella, char *err, size_t errlen);
int anyk_boot(int sigmodel);
int anyk_loaded(void);

struct anyk_ctx *anyk_newproc(struct anyk_ctx *parent, int flags, int *err);
struct anyk_ctx *anyk_newlwp(struct anyk_ctx *proc, int *err);
int anyk_release(struct anyk_ctx *c);

int anyk_etfs_register(const char *key, const char *host, int type, uint64_t begin, uint64_t size);
int anyk_etfs_remove(const char *key);

int anyk_client_load(const char *lib, char *err, size_t errlen);
struct anyk_ctx *anyk_client_init(const char *url, int *err);

// Benchmark loops: n calls of rump_sys_* made in C on one bound lwp.
int anyk_bench_getpid(struct anyk_ctx *c, long n);
int anyk_bench_getpid_unbound(long n);
int anyk_bench_read(struct anyk_ctx *c, int fd, long n);
int anyk_bench_fstat(struct anyk_ctx *c, int fd, long n);

#endif
