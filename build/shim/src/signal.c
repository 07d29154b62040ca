/*
 * signal.c: just enough of Linux signals for the Go runtime's
 * asynchronous preemption: sigaction, masks, the alternate signal stack,
 * tgkill and rt_sigreturn. A signal is delivered when its thread next
 * returns to the program (a blocking call is not interrupted), on the
 * alternate stack, with the frame Linux builds on x86-64 (rt_sigframe:
 * return address, ucontext with the saved registers and FPU state,
 * siginfo). Faults are not turned into signals: the shim reports them.
 */
#include "shim.h"

#define NSIG 65
#define SA_SIGINFO 4UL
#define SA_ONSTACK 0x08000000UL
#define SA_NODEFER 0x40000000UL
#define SIGURG 23
#define EINVAL 22
#define ESRCH 3
#define SS_ONSTACK 1
#define SS_DISABLE 2

struct kaction {
	u64 handler, flags, restorer, mask;
};
static struct kaction actions[NSIG];

/* struct ucontext as x86-64 Linux lays it out (uc_mcontext is 256 bytes:
 * 23 general registers, fpstate pointer, 8 reserved words). */
struct ucontext {
	u64 flags, link;
	u64 ss_sp;
	u32 ss_flags, pad;
	u64 ss_size;
	u64 r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	u64 csgsfs, err, trapno, oldmask, cr2, fpstate, reserved[8];
	u64 sigmask;
};

struct siginfo {
	s32 signo, errno_, code, pad;
	s32 pid, uid;
	u8 rest[104];
};

static u64 bit(u64 sig) { return 1UL << (sig - 1); }

/* Signals that do nothing when no handler is installed. */
static int default_ignored(u64 sig) { return sig == SIGURG || sig == 17 /* SIGCHLD */ || sig == 28 /* SIGWINCH */; }

s64 sys_rt_sigaction(u64 sig, const u64 *act, u64 *oact, u64 size)
{
	if (sig < 1 || sig >= NSIG || size != 8)
		return -EINVAL;
	if (oact) {
		oact[0] = actions[sig].handler;
		oact[1] = actions[sig].flags;
		oact[2] = actions[sig].restorer;
		oact[3] = actions[sig].mask;
	}
	if (act) {
		if (sig == 9 || sig == 19) /* SIGKILL, SIGSTOP */
			return -EINVAL;
		actions[sig] = (struct kaction){ act[0], act[1], act[2], act[3] };
	}
	return 0;
}

s64 sys_rt_sigprocmask(u64 how, const u64 *set, u64 *oset, u64 size)
{
	struct sigstate *s = cur_sig();
	if (size != 8)
		return -EINVAL;
	if (oset)
		*oset = s->mask;
	if (set) {
		u64 m = *set & ~(bit(9) | bit(19));
		if (how == 0)
			s->mask |= m;
		else if (how == 1)
			s->mask &= ~m;
		else if (how == 2)
			s->mask = m;
		else
			return -EINVAL;
	}
	return 0;
}

static int on_altstack(struct sigstate *s, u64 sp)
{
	return s->ss_size && sp > s->ss_sp && sp <= s->ss_sp + s->ss_size;
}

s64 sys_sigaltstack(const u64 *ss, u64 *oss, u64 sp)
{
	struct sigstate *s = cur_sig();
	if (oss) {
		oss[0] = s->ss_sp;
		oss[1] = s->ss_size ? (on_altstack(s, sp) ? SS_ONSTACK : 0) : SS_DISABLE;
		oss[2] = s->ss_size;
	}
	if (ss) {
		if (on_altstack(s, sp))
			return -1; /* EPERM: cannot change the stack in use */
		if (((u32)ss[1]) & SS_DISABLE) {
			s->ss_sp = s->ss_size = 0;
		} else {
			if (ss[2] < 2048)
				return -12; /* ENOMEM, as Linux for a too small stack */
			s->ss_sp = ss[0];
			s->ss_size = ss[2];
		}
	}
	return 0;
}

s64 sys_tgkill(u64 tid, u64 sig)
{
	struct sigstate *s = tid_sig(tid);
	if (!s)
		return -ESRCH;
	if (sig == 0)
		return 0;
	if (sig >= NSIG)
		return -EINVAL;
	u64 h = actions[sig].handler;
	if (h == 1 /* SIG_IGN */ || (h == 0 && default_ignored(sig)))
		return 0;
	if (h == 0) {
		kprintf("\nanykernel: program killed by signal %lu\n", sig);
		machine_exit(128 + sig, 1);
	}
	s->pending |= bit(sig);
	return 0;
}

void signal_deliver(struct frame *f)
{
	struct sigstate *s = cur_sig();
	u64 ready = s->pending & ~s->mask;
	if (!ready)
		return;
	u64 sig = __builtin_ctzl(ready) + 1;
	s->pending &= ~bit(sig);
	struct kaction *a = &actions[sig];
	if (a->handler <= 1)
		return;

	u64 sp = f->rsp;
	if ((a->flags & SA_ONSTACK) && s->ss_size && !on_altstack(s, sp))
		sp = s->ss_sp + s->ss_size;
	else
		sp -= 128; /* the System V red zone */
	u64 fp = ROUNDDOWN(sp - 512, 64);
	u64 start = ROUNDDOWN(fp - (8 + sizeof(struct ucontext) + sizeof(struct siginfo)), 16) - 8;
	if (touch_range(start, sp - start) < 0) {
		kprintf("\nanykernel: no room for a signal frame at %lx\n", start);
		dump_frame(f);
		machine_exit(2, 1);
	}
	struct ucontext *uc = (struct ucontext *)(start + 8);
	struct siginfo *si = (struct siginfo *)(start + 8 + sizeof *uc);
	memset(uc, 0, sizeof *uc + sizeof *si);
	*(u64 *)start = a->restorer;
	uc->ss_sp = s->ss_sp;
	uc->ss_size = s->ss_size;
	uc->ss_flags = s->ss_size ? 0 : SS_DISABLE;
	uc->r8 = f->r8; uc->r9 = f->r9; uc->r10 = f->r10; uc->r11 = f->r11;
	uc->r12 = f->r12; uc->r13 = f->r13; uc->r14 = f->r14; uc->r15 = f->r15;
	uc->rdi = f->rdi; uc->rsi = f->rsi; uc->rbp = f->rbp; uc->rbx = f->rbx;
	uc->rdx = f->rdx; uc->rax = f->rax; uc->rcx = f->rcx; uc->rsp = f->rsp;
	uc->rip = f->rip; uc->eflags = f->rflags;
	uc->csgsfs = 0x08 | (0x10UL << 48);
	uc->fpstate = fp;
	uc->sigmask = s->mask;
	__asm__ volatile("fxsave64 (%0)" ::"r"(fp) : "memory");
	si->signo = sig;
	si->code = -6; /* SI_TKILL */
	si->pid = 1;

	s->mask |= a->mask;
	if (!(a->flags & SA_NODEFER))
		s->mask |= bit(sig);
	f->rsp = start;
	f->rip = a->handler;
	f->rdi = sig;
	f->rsi = (u64)si;
	f->rdx = (u64)uc;
	f->rax = 0;
	f->rflags &= ~0x500UL; /* TF, DF */
}

s64 sys_rt_sigreturn(struct frame *f)
{
	/* The handler returned into the restorer, which popped nothing else:
	 * the ucontext is at the stack pointer. */
	struct ucontext *uc = (struct ucontext *)f->rsp;
	f->r8 = uc->r8; f->r9 = uc->r9; f->r10 = uc->r10; f->r11 = uc->r11;
	f->r12 = uc->r12; f->r13 = uc->r13; f->r14 = uc->r14; f->r15 = uc->r15;
	f->rdi = uc->rdi; f->rsi = uc->rsi; f->rbp = uc->rbp; f->rbx = uc->rbx;
	f->rdx = uc->rdx; f->rcx = uc->rcx; f->rsp = uc->rsp; f->rip = uc->rip;
	/* Flags the program may change; interrupts stay on. */
	f->rflags = (f->rflags & ~0xcd5UL) | (uc->eflags & 0xcd5UL) | 0x200;
	if (uc->fpstate)
		__asm__ volatile("fxrstor64 (%0)" ::"r"(uc->fpstate) : "memory");
	cur_sig()->mask = uc->sigmask & ~(bit(9) | bit(19));
	return uc->rax;
}
