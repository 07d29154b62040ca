//go:build rump && cgo

// C frames in Go tracebacks (runtime.SetCgoTraceback), for crashes inside
// the rump kernel: a stand-in for github.com/ianlancetaylor/cgosymbolizer,
// which the module proxy here does not serve. Frames are found with the
// unwinder and named with dladdr, which sees every symbol librump and its
// components export (their functions carry rump's names).

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <unwind.h>

struct anyk_tb_arg {
	uintptr_t context;
	uintptr_t sig_context;
	uintptr_t *buf;
	uintptr_t max;
};

struct anyk_tb_state {
	uintptr_t *buf;
	uintptr_t n, max;
	int skip;
};

static _Unwind_Reason_Code
anyk_tb_step(struct _Unwind_Context *ctx, void *p)
{
	struct anyk_tb_state *s = p;
	int before = 0;
	uintptr_t pc;

	if (s->n >= s->max)
		return _URC_END_OF_STACK;
	if (s->skip > 0) {
		s->skip--;
		return _URC_NO_REASON;
	}
	pc = _Unwind_GetIPInfo(ctx, &before);
	if (pc == 0)
		return _URC_END_OF_STACK;
	if (!before)
		pc--; // the call instruction, not the return address
	s->buf[s->n++] = pc;
	return _URC_NO_REASON;
}

// anyk_cgo_traceback unwinds the current stack; the runtime calls it from
// its signal handler when a signal arrives in C code. It skips its own
// frame, the runtime's caller and the signal frame.
void
anyk_cgo_traceback(void *p)
{
	struct anyk_tb_arg *a = p;
	struct anyk_tb_state s = {a->buf, 0, a->max, 3};

	if (a->context != 0 || a->max == 0) {
		if (a->max > 0)
			a->buf[0] = 0;
		return;
	}
	_Unwind_Backtrace(anyk_tb_step, &s);
	if (s.n < s.max)
		a->buf[s.n] = 0;
}

struct anyk_sym_arg {
	uintptr_t pc;
	const char *file;
	uintptr_t lineno;
	const char *func;
	uintptr_t entry;
	uintptr_t more;
	uintptr_t data;
};

// anyk_cgo_symbolizer names one pc: the nearest exported symbol and the
// object holding it.
void
anyk_cgo_symbolizer(void *p)
{
	struct anyk_sym_arg *a = p;
	Dl_info info;

	a->more = 0;
	a->lineno = 0;
	a->file = NULL;
	a->func = NULL;
	a->entry = 0;
	if (dladdr((void *)a->pc, &info) == 0)
		return;
	a->file = info.dli_fname;
	if (info.dli_sname != NULL) {
		a->func = info.dli_sname;
		a->entry = (uintptr_t)info.dli_saddr;
	}
}
