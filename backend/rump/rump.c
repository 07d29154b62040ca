//go:build rump && cgo

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rump.h"

// anyk_call hands the frame's r1 and r2 to rump_syscall as its long
// retval[2].
_Static_assert(sizeof(long) == sizeof(uintptr_t) &&
    offsetof(struct anyk_frame, r2) == offsetof(struct anyk_frame, r1) + sizeof(long),
    "struct anyk_frame's r1, r2 are not a long[2]");

// The entry points of librump we use. Those without a public prototype
// (rump_syscall, rump_lwproc_curlwp_set/clear/hypercall) are exported by
// librump.so and are what librump's own rump_sys_* wrappers and its
// threads use.
static struct {
	int loaded, booted;
	void (*setsigmodel)(int);
	int (*init)(void);
	int (*syscall)(int, void *, size_t, long *);
	int (*rfork)(int);
	int (*newlwp)(int);
	void (*releaselwp)(void);
	void (*curlwp_set)(void *);
	void (*curlwp_clear)(void *);
	void *(*curlwp)(void);
	int (*etfs_register)(const char *, const char *, int, uint64_t, uint64_t);
	int (*etfs_remove)(const char *);
	int (*sys_getpid)(void);
	long (*sys_read)(int, void *, size_t);
	int (*sys_fstat)(int, void *);
} R;

// NetBSD errno values for the errors the backend makes itself, and the
// syscall number of getpid; the Go side sets them from the ABI table.
static struct anyk_abi A;

static pthread_key_t heldkey; // its destructor hands t_held back at thread exit
static void held_destructor(void *);
static void drop_held(void);

void
anyk_set_abi(struct anyk_abi *a)
{
	A = *a;
	pthread_key_create(&heldkey, held_destructor);
}

static struct {
	void *h;
	int (*init)(void);
	int (*syscall)(int, const void *, size_t, long *);
	struct anyk_ctx *ctx;
} C;

#define SYM(var, name)                                                 \
	do {                                                           \
		*(void **)&(var) = dlsym(RTLD_DEFAULT, (name));        \
		if ((var) == NULL) {                                   \
			snprintf(err, errlen, "librump.so: no symbol %s", name); \
			return -1;                                     \
		}                                                      \
	} while (0)

// anyk_load opens the umbrella object (umbrella.go), which brings
// librumpuser, librump and the components in link order. Components must
// be loaded before rump_init, which finds them by walking the loaded
// objects.
int
anyk_load(const char *umbrella, char *err, size_t errlen)
{
	if (R.booted) {
		snprintf(err, errlen, "the rump kernel is already booted");
		return -1;
	}
	if (dlopen(umbrella, RTLD_NOW | RTLD_GLOBAL) == NULL) {
		snprintf(err, errlen, "%s", dlerror());
		return -1;
	}
	SYM(R.setsigmodel, "rump_boot_setsigmodel");
	SYM(R.init, "rump_init");
	SYM(R.syscall, "rump_syscall");
	SYM(R.rfork, "rump_pub_lwproc_rfork");
	SYM(R.newlwp, "rump_pub_lwproc_newlwp");
	SYM(R.releaselwp, "rump_pub_lwproc_releaselwp");
	SYM(R.curlwp_set, "rump_lwproc_curlwp_set");
	SYM(R.curlwp_clear, "rump_lwproc_curlwp_clear");
	SYM(R.curlwp, "rump_lwproc_curlwp_hypercall");
	SYM(R.sys_getpid, "rump___sysimpl_getpid");
	SYM(R.sys_read, "rump___sysimpl_read");
	SYM(R.sys_fstat, "rump___sysimpl_fstat50");
	// etfs lives in librumpvfs; absent without the vfs component.
	*(void **)&R.etfs_register = dlsym(RTLD_DEFAULT, "rump_pub_etfs_register_withsize");
	*(void **)&R.etfs_remove = dlsym(RTLD_DEFAULT, "rump_pub_etfs_remove");
	R.loaded = 1;
	return 0;
}

int
anyk_loaded(void)
{
	return R.loaded;
}

int
anyk_boot(int sigmodel)
{
	int rv;

	R.setsigmodel(sigmodel);
	rv = R.init();
	if (rv == 0)
		R.booted = 1;
	return rv;
}

// How calls find their lwp.
//
// A process (ANYK_PROC) owns records, one per lwp it has made. A record is
// FREE (in the process's pool, or being moved), HELD (bound as curlwp to
// the host thread that last used it, which keeps it for its next call in
// this process), BUSY (a call runs on it) or GONE (a release took it from
// its holder). A thread holds at most one record, t_held; a call in the
// same process as last time finds its lwp already bound and enters the
// kernel at once (one uncontended compare-and-swap); any other call first
// hands the held record back to its pool and takes one of the new
// process's. So a goroutine's call always runs on an lwp of its Kernel's
// process, whatever thread the Go scheduler put it on, and a thread never
// keeps an lwp of a process it no longer calls into for longer than its
// next call.

enum { L_FREE, L_HELD, L_BUSY, L_GONE };

struct anyk_lwp {
	void *l;
	struct anyk_ctx *c;
	int state; // atomic
	struct anyk_lwp *prev, *next; // c->all, under c->mu
};

static __thread struct anyk_lwp *t_held;

static void
list_add(struct anyk_ctx *c, struct anyk_lwp *h)
{
	pthread_mutex_lock(&c->mu);
	h->prev = NULL;
	h->next = c->all;
	if (c->all != NULL)
		c->all->prev = h;
	c->all = h;
	pthread_mutex_unlock(&c->mu);
}

static void
list_del_locked(struct anyk_ctx *c, struct anyk_lwp *h)
{
	if (h->prev != NULL)
		h->prev->next = h->next;
	else
		c->all = h->next;
	if (h->next != NULL)
		h->next->prev = h->prev;
	h->prev = h->next = NULL;
}

// lwp_release ends lwp l, which the calling thread does not hold. The
// last lwp of a process ends the process.
static void
lwp_release(void *l)
{
	R.curlwp_set(l);
	R.releaselwp(); // frees l and unbinds it when it leaves the kernel
}

// rec_drop releases a record's lwp and frees the record; nobody else
// references it.
static void
rec_drop(struct anyk_lwp *h)
{
	struct anyk_ctx *c = h->c;

	pthread_mutex_lock(&c->mu);
	list_del_locked(c, h);
	pthread_mutex_unlock(&c->mu);
	lwp_release(h->l);
	free(h);
}

static struct anyk_lwp *
pool_get(struct anyk_ctx *c)
{
	int i;

	for (i = 0; i < ANYK_SLOTS; i++) {
		if (__atomic_load_n(&c->slots[i], __ATOMIC_RELAXED) == NULL)
			continue;
		struct anyk_lwp *h = __atomic_exchange_n(&c->slots[i], NULL, __ATOMIC_ACQUIRE);
		if (h != NULL)
			return h;
	}
	return NULL;
}

// pool_put returns an unbound FREE record to its process, or releases it
// if the process is being released or the pool is full.
static void
pool_put(struct anyk_lwp *h)
{
	struct anyk_ctx *c = h->c;
	int i;

	if (!__atomic_load_n(&c->closed, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < ANYK_SLOTS; i++) {
			void *expect = NULL;
			if (!__atomic_compare_exchange_n(&c->slots[i], &expect, h, 0,
			    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
				continue;
			// A release that ran meanwhile may have drained the
			// slots already: take it back then.
			if (!__atomic_load_n(&c->closed, __ATOMIC_ACQUIRE))
				return;
			h = __atomic_exchange_n(&c->slots[i], NULL, __ATOMIC_ACQ_REL);
			if (h == NULL)
				return; // the release has it
			break;
		}
	}
	rec_drop(h);
}

// drop_held gives back the record the calling thread holds: unbound, to
// its pool; or, if a release took it (GONE), only the thread's binding,
// the lwp being gone already.
static void
drop_held(void)
{
	struct anyk_lwp *h = t_held;
	int held = L_HELD;

	if (h == NULL)
		return;
	t_held = NULL;
	if (__atomic_compare_exchange_n(&h->state, &held, L_FREE, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		R.curlwp_clear(h->l);
		pool_put(h);
		return;
	}
	R.curlwp_clear(h->l); // compares the pointer only; l may be freed
	free(h);
}

static void
held_destructor(void *unused)
{
	(void)unused;
	drop_held();
}

// proc_bind makes the calling thread hold a BUSY record of process c,
// bound as curlwp.
static struct anyk_lwp *
proc_bind(struct anyk_ctx *c, int *err)
{
	struct anyk_lwp *h = t_held;
	int held = L_HELD;

	if (h != NULL && h->c == c && __atomic_compare_exchange_n(&h->state, &held, L_BUSY, 0,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return h; // bound already: the fast path
	drop_held();
	h = pool_get(c);
	if (h != NULL) {
		R.curlwp_set(h->l);
	} else {
		if (__atomic_load_n(&c->closed, __ATOMIC_ACQUIRE)) {
			*err = A.esrch;
			return NULL;
		}
		h = calloc(1, sizeof *h);
		if (h == NULL) {
			*err = A.enomem;
			return NULL;
		}
		// rump_pub_lwproc_newlwp makes the lwp and binds it.
		*err = R.newlwp(c->pid);
		if (*err != 0) {
			free(h);
			return NULL;
		}
		h->l = R.curlwp();
		h->c = c;
		list_add(c, h);
	}
	__atomic_store_n(&h->state, L_BUSY, __ATOMIC_RELAXED);
	t_held = h;
	pthread_setspecific(heldkey, h);
	return h;
}

// proc_unbind ends a call: the thread keeps the record for its next one,
// unless the process is being released.
static void
proc_unbind(struct anyk_lwp *h)
{
	__atomic_store_n(&h->state, L_HELD, __ATOMIC_RELEASE);
	if (__atomic_load_n(&h->c->closed, __ATOMIC_ACQUIRE))
		drop_held();
}

// An lwp Kernel (ANYK_LWP) runs every call on its one lwp, bound for the
// call only; concurrent calls take turns on c->mu.
static void *
lwp_bind(struct anyk_ctx *c, int *err)
{
	drop_held();
	pthread_mutex_lock(&c->mu);
	if (c->lwp == NULL) {
		pthread_mutex_unlock(&c->mu);
		*err = A.esrch;
		return NULL;
	}
	R.curlwp_set(c->lwp);
	return c->lwp;
}

static void
lwp_unbind(struct anyk_ctx *c, void *l)
{
	R.curlwp_clear(l);
	pthread_mutex_unlock(&c->mu);
}

// anyk_call_slow is anyk_call for every case but a thread's next call
// into the process whose lwp it holds.
static void __attribute__((noinline))
anyk_call_slow(struct anyk_frame *f)
{
	struct anyk_ctx *c = (struct anyk_ctx *)f->ctx;
	long rv[2] = {0, 0};
	int err = 0;

	if (c->kind == ANYK_PROC) {
		struct anyk_lwp *h = proc_bind(c, &err);
		if (h != NULL) {
			err = R.syscall((int)f->nr, f->args, sizeof f->args, rv);
			proc_unbind(h);
		}
	} else if (c->kind == ANYK_LWP) {
		void *l = lwp_bind(c, &err);
		if (l != NULL) {
			err = R.syscall((int)f->nr, f->args, sizeof f->args, rv);
			lwp_unbind(c, l);
		}
	} else {
		err = C.syscall((int)f->nr, f->args, sizeof f->args, rv);
		if (err == ENOTCONN)
			err = A.enotconn; // the host's: the connection is gone
	}
	f->r1 = (uintptr_t)rv[0];
	f->r2 = (uintptr_t)rv[1];
	f->err = (uintptr_t)err;
}

// anyk_call is what the Go side reaches through runtime.cgocall (or
// asmcgocall): one C call that binds the right lwp on this thread and
// enters the kernel. Its fast path is proc_bind's, inline: the thread
// already holds an lwp of the frame's process; the kernel writes the
// results into the frame itself (r1, r2 are its retval[2], zeroed by
// the Go side).
void
anyk_call(void *p)
{
	struct anyk_frame *f = p;
	struct anyk_lwp *h = t_held;
	int held = L_HELD;

	if (h != NULL && (uintptr_t)h->c == f->ctx && __atomic_compare_exchange_n(&h->state, &held, L_BUSY, 0,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		f->err = (uintptr_t)R.syscall((int)f->nr, f->args, sizeof f->args, (long *)&f->r1);
		proc_unbind(h);
		return;
	}
	anyk_call_slow(f);
}

static struct anyk_ctx *
ctx_new(int kind)
{
	struct anyk_ctx *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	c->kind = kind;
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

// anyk_newproc forks a new process from parent's (from the kernel's
// implicit context, pid 1, when parent is NULL): rump_lwproc_rfork with
// RUMP_RFFDG (copy descriptors), RUMP_RFCFDG (fresh table) or 0 (share).
struct anyk_ctx *
anyk_newproc(struct anyk_ctx *parent, int flags, int *err)
{
	struct anyk_ctx *c;
	struct anyk_lwp *h;
	void *pl = NULL;
	long rv[2] = {0, 0};

	*err = 0;
	c = ctx_new(ANYK_PROC);
	h = calloc(1, sizeof *h);
	if (c == NULL || h == NULL) {
		free(c);
		free(h);
		*err = A.enomem;
		return NULL;
	}
	drop_held();
	if (parent != NULL) {
		// rfork forks curproc: bind one of the parent's lwps.
		pl = parent->kind == ANYK_PROC ? (void *)proc_bind(parent, err) : lwp_bind(parent, err);
		if (pl == NULL) {
			free(c);
			free(h);
			return NULL;
		}
	}
	*err = R.rfork(flags);
	if (*err == 0) {
		// The thread now runs the child's first lwp; the parent's is
		// unbound but still its process's.
		h->l = R.curlwp();
		R.syscall(A.getpid, rv, sizeof rv, rv);
		c->pid = (int)rv[0];
		R.curlwp_clear(h->l);
	}
	if (parent != NULL && parent->kind == ANYK_PROC) {
		struct anyk_lwp *ph = pl;
		if (*err == 0) {
			// rfork unbound it: put it back unbound.
			t_held = NULL;
			__atomic_store_n(&ph->state, L_FREE, __ATOMIC_RELEASE);
			pool_put(ph);
		} else {
			proc_unbind(ph);
		}
	} else if (parent != NULL) {
		if (*err != 0)
			R.curlwp_clear(pl);
		pthread_mutex_unlock(&parent->mu);
	}
	if (*err != 0) {
		free(c);
		free(h);
		return NULL;
	}
	h->c = c;
	list_add(c, h);
	c->slots[0] = h;
	return c;
}

// anyk_newlwp makes one more lwp in proc's process, for a Kernel whose
// calls all run on it.
struct anyk_ctx *
anyk_newlwp(struct anyk_ctx *proc, int *err)
{
	struct anyk_ctx *c = ctx_new(ANYK_LWP);

	*err = 0;
	if (c == NULL) {
		*err = A.enomem;
		return NULL;
	}
	drop_held();
	*err = R.newlwp(proc->pid);
	if (*err != 0) {
		free(c);
		return NULL;
	}
	c->pid = proc->pid;
	c->lwp = R.curlwp();
	R.curlwp_clear(c->lwp);
	return c;
}

// anyk_release ends a process (its free and held lwps now, the ones busy
// in a call when the call returns) or one lwp. A second release answers
// ESRCH.
int
anyk_release(struct anyk_ctx *c)
{
	struct anyk_lwp *h, *next, *gone = NULL;
	int i;

	if (c->kind == ANYK_CLIENT)
		return A.eopnotsupp;
	drop_held();
	if (__atomic_exchange_n(&c->closed, 1, __ATOMIC_ACQ_REL))
		return A.esrch;
	if (c->kind == ANYK_LWP) {
		pthread_mutex_lock(&c->mu);
		void *l = c->lwp;
		c->lwp = NULL;
		pthread_mutex_unlock(&c->mu);
		lwp_release(l);
		return 0;
	}
	for (i = 0; i < ANYK_SLOTS; i++) {
		h = __atomic_exchange_n(&c->slots[i], NULL, __ATOMIC_ACQ_REL);
		if (h != NULL)
			rec_drop(h);
	}
	// Take the lwps other threads hold between calls; their holders
	// find them GONE at their next call and only forget them.
	pthread_mutex_lock(&c->mu);
	for (h = c->all; h != NULL; h = next) {
		int held = L_HELD;
		next = h->next;
		if (__atomic_compare_exchange_n(&h->state, &held, L_GONE, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			list_del_locked(c, h);
			h->next = gone;
			gone = h;
		}
	}
	pthread_mutex_unlock(&c->mu);
	for (h = gone; h != NULL; h = next) {
		next = h->next;
		lwp_release(h->l); // the holder frees the record
	}
	return 0;
}

int
anyk_etfs_register(const char *key, const char *host, int type, uint64_t begin, uint64_t size)
{
	if (R.etfs_register == NULL)
		return A.enosys; // no vfs component
	drop_held();
	return R.etfs_register(key, host, type, begin, size);
}

int
anyk_etfs_remove(const char *key)
{
	if (R.etfs_remove == NULL)
		return A.enosys;
	drop_held();
	return R.etfs_remove(key);
}

// Remote mode. librumpclient keeps one connection per process in static
// state, so it is loaded once, privately (RTLD_LOCAL: its rump_sys_*
// symbols must not shadow librump's).
int
anyk_client_load(const char *lib, char *err, size_t errlen)
{
	if (C.h != NULL)
		return 0;
	C.h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (C.h == NULL) {
		snprintf(err, errlen, "%s", dlerror());
		return -1;
	}
	*(void **)&C.init = dlsym(C.h, "rumpclient_init");
	*(void **)&C.syscall = dlsym(C.h, "rumpclient_syscall");
	if (C.init == NULL || C.syscall == NULL) {
		snprintf(err, errlen, "%s: not a librumpclient", lib);
		dlclose(C.h);
		C.h = NULL;
		return -1;
	}
	return 0;
}

struct anyk_ctx *
anyk_client_init(const char *url, int *err)
{
	if (C.ctx != NULL) {
		*err = 0;
		return C.ctx;
	}
	setenv("RUMP_SERVER", url, 1);
	if (C.init() != 0) {
		*err = errno;
		return NULL;
	}
	C.ctx = ctx_new(ANYK_CLIENT);
	*err = C.ctx == NULL ? A.enomem : 0;
	return C.ctx;
}

// The benchmarks' C side: the loop a C program would write, on one lwp of
// the process, bound once.

int
anyk_bench_getpid(struct anyk_ctx *c, long n)
{
	int err = 0;
	struct anyk_lwp *h = proc_bind(c, &err);
	long i;

	if (h == NULL)
		return err;
	for (i = 0; i < n; i++)
		R.sys_getpid();
	proc_unbind(h);
	return 0;
}

// anyk_bench_getpid_unbound is the loop of a C program that never binds
// an lwp: rump then makes and frees an implicit lwp in every call.
int
anyk_bench_getpid_unbound(long n)
{
	long i;

	drop_held();
	for (i = 0; i < n; i++)
		R.sys_getpid();
	return 0;
}

int
anyk_bench_read(struct anyk_ctx *c, int fd, long n)
{
	int err = 0;
	struct anyk_lwp *h = proc_bind(c, &err);
	char b[1];
	long i;

	if (h == NULL)
		return err;
	for (i = 0; i < n; i++) {
		if (R.sys_read(fd, b, 1) != 1) {
			err = A.eio;
			break;
		}
	}
	proc_unbind(h);
	return err;
}

int
anyk_bench_fstat(struct anyk_ctx *c, int fd, long n)
{
	int err = 0;
	struct anyk_lwp *h = proc_bind(c, &err);
	char st[256];
	long i;

	if (h == NULL)
		return err;
	for (i = 0; i < n; i++) {
		if (R.sys_fstat(fd, st) != 0) {
			err = A.eio;
			break;
		}
	}
	proc_unbind(h);
	return err;
}

