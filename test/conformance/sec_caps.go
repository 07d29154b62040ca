package conformance

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/caps"
)

// Capabilities: per-thread changes run on a locked thread that is thrown
// away afterwards (secLocked); process-wide ones in a re-exec child.

func init() {
	Register(
		Case{Family: "security", Call: "capget", Run: testCapget},
		Case{Family: "security", Call: "capset", Root: true, Run: testCapset},
		Case{Family: "security", Call: "prctl_capbset_read", Run: testCapbsetRead},
		Case{Family: "security", Call: "prctl_capbset_drop", Root: true, Run: testCapbsetDrop},
		Case{Family: "security", Call: "prctl_cap_ambient_raise", Root: true, Run: testCapAmbientRaise},
		Case{Family: "security", Call: "prctl_cap_ambient_clear_all", Root: true, Run: testCapAmbientClearAll},
		Case{Family: "security", Call: "prctl_get_securebits", Run: testGetSecurebits},
		Case{Family: "security", Call: "prctl_set_securebits", Root: true, Run: testSetSecurebits},
		Case{Family: "security", Call: "file_caps_v2", Root: true, Run: testFileCapsV2},
		Case{Family: "security", Call: "file_caps_v3", Root: true, Run: testFileCapsV3},
	)
}

// secProcHex checks the /proc status lines of the calling thread.
func secWantThread(key string, want api.CapSet) error {
	got, err := secStatusHex("/proc/thread-self/status", key)
	if err != nil {
		return err
	}
	if got != uint64(want) {
		return fmt.Errorf("/proc/thread-self/status %s %016x, want %016x (%v)", key, got, uint64(want), want)
	}
	return nil
}

// secWantAll checks a capability line of every thread.
func secWantAll(key string, want api.CapSet) error {
	return secAllTasks(key, fmt.Sprintf("%016x", uint64(want)))
}

// secNeedHost skips cases that read /proc for the kernel under test.
func secNeedHost(t T, e *Env) {
	t.Helper()
	if _, ok := e.K.Backend().(api.HostBackend); !ok {
		t.Skipf("needs the host kernel (/proc)")
	}
}

func testCapget(t T, e *Env) {
	k := e.K
	_, err := k.Capget(-1)
	NoSys(t, err)
	Want(t, err, api.EINVAL, "negative thread id")
	secNeedHost(t, e)
	procLocked(t, func() error {
		c, err := k.Capget(0)
		if err != nil {
			return err
		}
		for _, x := range []struct {
			key string
			set api.CapSet
		}{{"CapEff", c.Effective}, {"CapPrm", c.Permitted}, {"CapInh", c.Inheritable}} {
			if err := secWantThread(x.key, x.set); err != nil {
				return err
			}
		}
		if c2, err := k.Capget(k.Gettid()); err != nil || c2 != c {
			return fmt.Errorf("capget by own tid: %+v %v, want %+v", c2, err, c)
		}
		st, err := caps.Current(k)
		if err != nil {
			return err
		}
		if st.Caps != c {
			return fmt.Errorf("caps.Current %+v, capget %+v", st.Caps, c)
		}
		if err := secWantThread("CapBnd", st.Bounding); err != nil {
			return err
		}
		return secWantThread("CapAmb", st.Ambient)
	})
	// Another process: pid 1.
	c, err := k.Capget(1)
	OK(t, err, "capget(1)")
	v, err := secStatusHex("/proc/1/status", "CapEff")
	OK(t, err)
	Eq(t, uint64(c.Effective), v, "pid 1 CapEff")
	_, err = k.Capget(1<<22 + 4321) // above the largest pid_max
	Want(t, err, api.ESRCH, "capget of a thread that does not exist")
	// The text form, as libcap prints it.
	s, err := api.ParseCapSet("chown,CAP_KILL|net_raw")
	OK(t, err)
	Eq(t, s, api.CapSetOf(api.CAP_CHOWN, api.CAP_KILL, api.CAP_NET_RAW), "ParseCapSet")
	Eq(t, s.String(), "CAP_CHOWN|CAP_KILL|CAP_NET_RAW", "CapSet.String")
	_, err = api.ParseCapSet("chown,nosuch")
	var pe *api.ParseError
	True(t, errors.As(err, &pe) && pe.Word == "nosuch", "ParseCapSet error names the word: %v", err)
	Eq(t, caps.Format(api.Caps{Effective: s, Permitted: s}, 0), "cap_chown,cap_kill,cap_net_raw=ep", "caps.Format")
}

func testCapset(t T, e *Env) {
	k := e.K
	secNeedHost(t, e)
	path := CreateFile(t, e, "owned", nil)
	before, err := secStatusHex("/proc/self/status", "CapEff")
	OK(t, err)
	procLocked(t, func() error {
		c, err := k.Capget(0)
		if err != nil {
			return err
		}
		if !c.Effective.Has(api.CAP_CHOWN) {
			return fmt.Errorf("the suite runs as root without CAP_CHOWN: %v", c.Effective)
		}
		drop := c
		drop.Effective = c.Effective.Del(api.CAP_CHOWN)
		if err := k.CapsetThread(drop); err != nil {
			return err
		}
		if err := secWantThread("CapEff", drop.Effective); err != nil {
			return err
		}
		if err := secWantErrno("chown without CAP_CHOWN", k.Chown(path, 1234, 1234), api.EPERM); err != nil {
			return err
		}
		// Still permitted: it can come back.
		if err := k.CapsetThread(c); err != nil {
			return err
		}
		if err := k.Chown(path, 1234, 1234); err != nil {
			return fmt.Errorf("chown with CAP_CHOWN back: %w", err)
		}
		// Effective beyond permitted is refused.
		bad := drop
		bad.Permitted = c.Permitted.Del(api.CAP_CHOWN)
		bad.Effective = c.Effective
		if err := secWantErrno("effective beyond permitted", k.CapsetThread(bad), api.EPERM); err != nil {
			return err
		}
		// So is a permitted set that grows.
		for _, x := range caps.Known() {
			if !c.Permitted.Has(x) {
				grow := c
				grow.Permitted = c.Permitted.Add(x)
				return secWantErrno("growing the permitted set", k.CapsetThread(grow), api.EPERM)
			}
		}
		return nil
	})
	var st api.Stat
	OK(t, k.Stat(path, &st))
	Eq(t, st.Uid, uint32(1234), "owner after chown")
	after, err := secStatusHex("/proc/self/status", "CapEff")
	OK(t, err)
	Eq(t, after, before, "the main thread's CapEff is untouched")
	secRunChild(t, e, "capset")
}

// secChildCapset: Capset reaches every thread.
func secChildCapset(k *api.Kernel) error {
	threads := secSpareThreads(3)
	c, err := k.Capget(0)
	if err != nil {
		return err
	}
	want := api.Caps{
		Effective:   c.Effective.Del(api.CAP_NET_RAW, api.CAP_CHOWN),
		Permitted:   c.Permitted.Del(api.CAP_NET_RAW),
		Inheritable: c.Inheritable,
	}
	if err := k.Capset(want); secCgo(err, "Capset") {
		if err := secWantAll("CapEff", c.Effective); err != nil {
			return err
		}
		if err := threads(func() error { return k.CapsetThread(want) }); err != nil {
			return err
		}
		if err := k.CapsetThread(want); err != nil {
			return err
		}
		return threads(func() error { return secWantThread("CapEff", want.Effective) })
	} else if err != nil {
		return err
	}
	if err := secWantAll("CapEff", want.Effective); err != nil {
		return err
	}
	if err := secWantAll("CapPrm", want.Permitted); err != nil {
		return err
	}
	f, err := os.CreateTemp("", "anykernel-capset-")
	if err != nil {
		return err
	}
	f.Close()
	defer os.Remove(f.Name())
	if err := threads(func() error {
		if got, err := k.Capget(0); err != nil || got != want {
			return fmt.Errorf("capget on another thread: %+v %v, want %+v", got, err, want)
		}
		return secWantErrno("chown on another thread", k.Chown(f.Name(), 1234, 1234), api.EPERM)
	}); err != nil {
		return err
	}
	// NET_RAW left the permitted set: it cannot come back.
	return secWantErrno("capset back to the old sets", k.Capset(c), api.EPERM)
}

func testCapbsetRead(t T, e *Env) {
	k := e.K
	_, err := k.CapbsetRead(api.CAP_CHOWN)
	NoSys(t, err)
	_, err = k.CapbsetRead(-1)
	Want(t, err, api.EINVAL, "capability -1")
	_, err = k.CapbsetRead(64)
	Want(t, err, api.EINVAL, "capability 64")
	_, err = k.CapbsetRead(63)
	Want(t, err, api.EINVAL, "a capability the kernel does not have")
	secNeedHost(t, e)
	procLocked(t, func() error {
		var set api.CapSet
		for _, c := range caps.Known() {
			in, err := k.CapbsetRead(c)
			if errors.Is(err, api.EINVAL) {
				continue // newer than the kernel
			}
			if err != nil {
				return err
			}
			if in {
				set = set.Add(c)
			}
		}
		return secWantThread("CapBnd", set)
	})
}

func testCapbsetDrop(t T, e *Env) {
	k := e.K
	secNeedHost(t, e)
	Want(t, k.CapbsetDropThread(99), api.EINVAL, "capability 99")
	main, err := secStatusHex("/proc/self/status", "CapBnd")
	OK(t, err)
	procLocked(t, func() error {
		in, err := k.CapbsetRead(api.CAP_MKNOD)
		if err != nil {
			return err
		}
		if !in {
			return errors.New("CAP_MKNOD is not in the bounding set to begin with")
		}
		if err := k.CapbsetDropThread(api.CAP_MKNOD); err != nil {
			return err
		}
		if in, err := k.CapbsetRead(api.CAP_MKNOD); err != nil || in {
			return fmt.Errorf("CAP_MKNOD still in the bounding set: %v %v", in, err)
		}
		if err := secWantThread("CapBnd", api.CapSet(main).Del(api.CAP_MKNOD)); err != nil {
			return err
		}
		// Dropping what is gone is fine.
		return k.CapbsetDropThread(api.CAP_MKNOD)
	})
	// caps.DropThread: every set at once.
	procLocked(t, func() error {
		gone := api.CapSetOf(api.CAP_CHOWN, api.CAP_NET_BIND_SERVICE)
		if err := secInheritable(k, false, api.CAP_NET_BIND_SERVICE); err != nil {
			return err
		}
		if err := k.CapAmbientRaiseThread(api.CAP_NET_BIND_SERVICE); err != nil {
			return err
		}
		c, err := k.Capget(0)
		if err != nil {
			return err
		}
		if err := caps.DropThread(k, gone); err != nil {
			return err
		}
		for _, x := range []struct {
			key string
			set api.CapSet
		}{{"CapEff", c.Effective}, {"CapPrm", c.Permitted}, {"CapInh", c.Inheritable}, {"CapBnd", api.CapSet(main)}, {"CapAmb", 0}} {
			if err := secWantThread(x.key, x.set&^gone); err != nil {
				return err
			}
		}
		return nil
	})
	now, err := secStatusHex("/proc/self/status", "CapBnd")
	OK(t, err)
	Eq(t, now, main, "the main thread's bounding set is untouched")
	secRunChild(t, e, "capbset_drop")
}

func secChildCapbsetDrop(k *api.Kernel) error {
	threads := secSpareThreads(3)
	bnd, err := secStatusHex("/proc/self/status", "CapBnd")
	if err != nil {
		return err
	}
	if err := k.CapbsetDrop(api.CAP_MKNOD); secCgo(err, "CapbsetDrop") {
		if err := secWantAll("CapBnd", api.CapSet(bnd)); err != nil {
			return err
		}
		return threads(func() error {
			if err := k.CapbsetDropThread(api.CAP_SYS_BOOT); err != nil {
				return err
			}
			return secWantThread("CapBnd", api.CapSet(bnd).Del(api.CAP_SYS_BOOT))
		})
	} else if err != nil {
		return err
	}
	if err := k.CapbsetDrop(api.CAP_SYS_BOOT); err != nil {
		return err
	}
	if err := secWantAll("CapBnd", api.CapSet(bnd).Del(api.CAP_MKNOD, api.CAP_SYS_BOOT)); err != nil {
		return err
	}
	if err := threads(func() error {
		if in, err := k.CapbsetRead(api.CAP_SYS_BOOT); err != nil || in {
			return fmt.Errorf("CAP_SYS_BOOT in another thread's bounding set: %v %v", in, err)
		}
		return nil
	}); err != nil {
		return err
	}
	// caps.Drop: every set of every thread.
	c, err := k.Capget(0)
	if err != nil {
		return err
	}
	if err := caps.Drop(k, api.CapSetOf(api.CAP_KILL)); err != nil {
		return err
	}
	if err := secWantAll("CapEff", c.Effective.Del(api.CAP_KILL)); err != nil {
		return err
	}
	return secWantAll("CapBnd", api.CapSet(bnd).Del(api.CAP_MKNOD, api.CAP_SYS_BOOT, api.CAP_KILL))
}

// secInheritable adds caps to the calling thread's inheritable set, as
// raising them into the ambient set requires.
func secInheritable(k *api.Kernel, all bool, add ...api.Capability) error {
	c, err := k.Capget(0)
	if err != nil {
		return err
	}
	for _, x := range add {
		if !c.Permitted.Has(x) {
			return fmt.Errorf("%v is not permitted", x)
		}
	}
	c.Inheritable = c.Inheritable.Add(add...)
	if all {
		return k.Capset(c)
	}
	return k.CapsetThread(c)
}

func testCapAmbientRaise(t T, e *Env) {
	k := e.K
	secNeedHost(t, e)
	_, err := k.CapAmbientIsSet(-3)
	Want(t, err, api.EINVAL, "capability -3")
	procLocked(t, func() error {
		err := k.CapAmbientRaiseThread(api.CAP_NET_BIND_SERVICE)
		if err := secWantErrno("raise without the inheritable bit", err, api.EPERM); err != nil {
			return err
		}
		if err := secInheritable(k, false, api.CAP_NET_BIND_SERVICE); err != nil {
			return err
		}
		if err := k.CapAmbientRaiseThread(api.CAP_NET_BIND_SERVICE); err != nil {
			return err
		}
		if in, err := k.CapAmbientIsSet(api.CAP_NET_BIND_SERVICE); err != nil || !in {
			return fmt.Errorf("is_set after raise: %v %v", in, err)
		}
		if err := secWantThread("CapAmb", api.CapSetOf(api.CAP_NET_BIND_SERVICE)); err != nil {
			return err
		}
		if err := k.CapAmbientLowerThread(api.CAP_NET_BIND_SERVICE); err != nil {
			return err
		}
		if in, err := k.CapAmbientIsSet(api.CAP_NET_BIND_SERVICE); err != nil || in {
			return fmt.Errorf("is_set after lower: %v %v", in, err)
		}
		// Leaving the inheritable set takes the capability out of the
		// ambient set too.
		if err := k.CapAmbientRaiseThread(api.CAP_NET_BIND_SERVICE); err != nil {
			return err
		}
		c, err := k.Capget(0)
		if err != nil {
			return err
		}
		c.Inheritable = c.Inheritable.Del(api.CAP_NET_BIND_SERVICE)
		if err := k.CapsetThread(c); err != nil {
			return err
		}
		return secWantThread("CapAmb", 0)
	})
	amb, err := secStatusHex("/proc/self/status", "CapAmb")
	OK(t, err)
	Eq(t, amb, uint64(0), "the main thread's ambient set")
	secRunChild(t, e, "cap_ambient")
}

// secChildAmbient: raising reaches every thread.
func secChildAmbient(k *api.Kernel) error {
	threads := secSpareThreads(3)
	if err := secInheritable(k, true, api.CAP_NET_BIND_SERVICE, api.CAP_KILL); secCgo(err, "Capset") {
		if err := secWantAll("CapAmb", 0); err != nil {
			return err
		}
		if err := secWantErrno("CapAmbientRaise", k.CapAmbientRaise(api.CAP_KILL), api.ENOTSUP); err != nil {
			return err
		}
		return threads(func() error {
			if err := secInheritable(k, false, api.CAP_KILL); err != nil {
				return err
			}
			if err := k.CapAmbientRaiseThread(api.CAP_KILL); err != nil {
				return err
			}
			return secWantThread("CapAmb", api.CapSetOf(api.CAP_KILL))
		})
	} else if err != nil {
		return err
	}
	if err := k.CapAmbientRaise(api.CAP_NET_BIND_SERVICE); err != nil {
		return err
	}
	if err := k.CapAmbientRaise(api.CAP_KILL); err != nil {
		return err
	}
	if err := secWantAll("CapAmb", api.CapSetOf(api.CAP_NET_BIND_SERVICE, api.CAP_KILL)); err != nil {
		return err
	}
	if err := k.CapAmbientLower(api.CAP_KILL); err != nil {
		return err
	}
	if err := threads(func() error {
		return secWantThread("CapAmb", api.CapSetOf(api.CAP_NET_BIND_SERVICE))
	}); err != nil {
		return err
	}
	if err := k.CapAmbientClearAll(); err != nil {
		return err
	}
	return secWantAll("CapAmb", 0)
}

func testCapAmbientClearAll(t T, e *Env) {
	k := e.K
	secNeedHost(t, e)
	procLocked(t, func() error {
		if err := secInheritable(k, false, api.CAP_NET_BIND_SERVICE, api.CAP_NET_RAW); err != nil {
			return err
		}
		for _, c := range []api.Capability{api.CAP_NET_BIND_SERVICE, api.CAP_NET_RAW} {
			if err := k.CapAmbientRaiseThread(c); err != nil {
				return err
			}
		}
		if err := secWantThread("CapAmb", api.CapSetOf(api.CAP_NET_BIND_SERVICE, api.CAP_NET_RAW)); err != nil {
			return err
		}
		if err := k.CapAmbientClearAllThread(); err != nil {
			return err
		}
		if in, err := k.CapAmbientIsSet(api.CAP_NET_RAW); err != nil || in {
			return fmt.Errorf("is_set after clear_all: %v %v", in, err)
		}
		return secWantThread("CapAmb", 0)
	})
}

func testGetSecurebits(t T, e *Env) {
	k := e.K
	var bits api.Securebits
	var err error
	procLocked(t, func() error {
		bits, err = k.GetSecurebits()
		return err
	})
	b, err := api.ParseSecurebits("keep_caps,noroot_locked")
	OK(t, err)
	Eq(t, b, api.SECBIT_KEEP_CAPS|api.SECBIT_NOROOT_LOCKED, "ParseSecurebits")
	Eq(t, b.String(), "SECBIT_NOROOT_LOCKED|SECBIT_KEEP_CAPS", "Securebits.String")
	secNeedHost(t, e)
	capsh, err := exec.LookPath("capsh")
	if err != nil {
		t.Skipf("capsh not installed (Debian package libcap2-bin): cannot compare securebits %v", bits)
	}
	out, err := exec.Command(capsh, "--print").CombinedOutput()
	OK(t, err, "capsh --print: %s", out)
	var line string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Securebits:") {
			line = l
		}
	}
	// "Securebits: 00/0x0/1'b0 ..."
	f := strings.Fields(strings.TrimPrefix(line, "Securebits:"))
	True(t, len(f) > 0, "capsh prints Securebits: %q", out)
	parts := strings.Split(f[0], "/")
	v, err := strconv.ParseUint(strings.TrimPrefix(parts[len(parts)-2], "0x"), 16, 32)
	OK(t, err, "capsh securebits %q", line)
	// execve clears KEEP_CAPS (and only that).
	Eq(t, api.Securebits(v), bits&^api.SECBIT_KEEP_CAPS, "securebits seen by capsh")
}

func testSetSecurebits(t T, e *Env) {
	k := e.K
	secNeedHost(t, e)
	before, err := k.GetSecurebits()
	NoSys(t, err)
	OK(t, err)
	procLocked(t, func() error {
		if err := k.SetSecurebitsThread(api.SECBIT_KEEP_CAPS); err != nil {
			return err
		}
		if b, err := k.GetSecurebits(); err != nil || b != api.SECBIT_KEEP_CAPS {
			return fmt.Errorf("after setting KEEP_CAPS: %v %v", b, err)
		}
		// KEEP_CAPS at work: giving up root keeps the permitted set
		// (the effective one is still cleared).
		c, err := k.Capget(0)
		if err != nil {
			return err
		}
		if err := k.SetresuidThread(1234, 1234, 1234); err != nil {
			return err
		}
		after, err := k.Capget(0)
		if err != nil {
			return err
		}
		if after.Permitted != c.Permitted || after.Effective != 0 {
			return fmt.Errorf("caps after setresuid with KEEP_CAPS: %+v, want permitted %v and no effective", after, c.Permitted)
		}
		// Without CAP_SETPCAP in the effective set, securebits are fixed.
		return secWantErrno("set securebits without CAP_SETPCAP", k.SetSecurebitsThread(0), api.EPERM)
	})
	procLocked(t, func() error {
		if err := k.SetSecurebitsThread(api.SECBIT_NO_CAP_AMBIENT_RAISE | api.SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED); err != nil {
			return err
		}
		// Locked: it cannot be cleared, and raising is refused.
		if err := secWantErrno("clearing a locked bit", k.SetSecurebitsThread(0), api.EPERM); err != nil {
			return err
		}
		if err := secInheritable(k, false, api.CAP_NET_RAW); err != nil {
			return err
		}
		return secWantErrno("ambient raise under NO_CAP_AMBIENT_RAISE", k.CapAmbientRaiseThread(api.CAP_NET_RAW), api.EPERM)
	})
	b, err := k.GetSecurebits()
	OK(t, err)
	Eq(t, b, before, "securebits of another thread")
	secRunChild(t, e, "securebits")
}

// secChildSecurebits: SetSecurebits reaches every thread.
func secChildSecurebits(k *api.Kernel) error {
	threads := secSpareThreads(3)
	want := api.SECBIT_NOROOT | api.SECBIT_NO_SETUID_FIXUP
	if err := k.SetSecurebits(want); secCgo(err, "SetSecurebits") {
		if b, err := k.GetSecurebits(); err != nil || b != 0 {
			return fmt.Errorf("securebits after a refused SetSecurebits: %v %v", b, err)
		}
		return threads(func() error {
			if err := k.SetSecurebitsThread(want); err != nil {
				return err
			}
			if b, err := k.GetSecurebits(); err != nil || b != want {
				return fmt.Errorf("securebits after SetSecurebitsThread: %v %v", b, err)
			}
			return nil
		})
	} else if err != nil {
		return err
	}
	return threads(func() error {
		if b, err := k.GetSecurebits(); err != nil || b != want {
			return fmt.Errorf("securebits on another thread: %v %v, want %v", b, err, want)
		}
		return nil
	})
}

// secGetcap runs getcap (with -n: rootids too) on path, or skips the
// case naming the package when it is not installed.
func secGetcap(t T, path string) string {
	t.Helper()
	getcap, err := exec.LookPath("getcap")
	if err != nil {
		t.Skipf("getcap not installed (Debian package libcap2-bin): cannot compare with libcap")
	}
	out, err := exec.Command(getcap, "-n", path).CombinedOutput()
	OK(t, err, "getcap: %s", out)
	return strings.TrimSpace(string(out))
}

func secSetcap(t T, args ...string) {
	t.Helper()
	setcap, err := exec.LookPath("setcap")
	if err != nil {
		t.Skipf("setcap not installed (Debian package libcap2-bin): cannot compare with libcap")
	}
	out, err := exec.Command(setcap, args...).CombinedOutput()
	OK(t, err, "setcap %v: %s", args, out)
}

func testFileCapsV2(t T, e *Env) {
	k := e.K
	path := CreateFile(t, e, "fcaps", []byte("#!/bin/sh\n"))
	_, err := caps.GetFile(k, path)
	NoSys(t, err)
	if errors.Is(err, api.EOPNOTSUPP) {
		t.Skipf("the temp dir's file system takes no extended attributes: %v", err)
	}
	Want(t, err, api.ENODATA, "a file without capabilities")
	want := caps.FileCaps{Permitted: api.CapSetOf(api.CAP_CHOWN, api.CAP_NET_RAW), Effective: true, Version: 2}
	err = caps.SetFile(k, path, want)
	NoSys(t, err)
	if errors.Is(err, api.EOPNOTSUPP) {
		t.Skipf("the temp dir's file system takes no security.* attributes: %v", err)
	}
	OK(t, err, "set v2 file capabilities")
	got, err := caps.GetFile(k, path)
	OK(t, err)
	Eq(t, got, want, "read back")
	sz, _ := k.Const("XATTR_CAPS_SZ_2")
	n, err := k.Getxattr(path, caps.XattrName, nil)
	OK(t, err)
	Eq(t, uint64(n), sz, "attribute size")
	f, err := k.Open(path, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer f.Close()
	got, err = caps.GetFd(f)
	OK(t, err)
	Eq(t, got, want, "read through the descriptor")
	// Changing the owner takes the capabilities away (the kernel's
	// killpriv).
	OK(t, k.Chown(path, 1234, 1234))
	_, err = caps.GetFile(k, path)
	Want(t, err, api.ENODATA, "capabilities after chown")
	OK(t, caps.SetFd(f, want), "set through the descriptor")
	Want(t, caps.SetFile(k, path, caps.FileCaps{Version: 4}), api.EINVAL, "version 4")
	// What libcap sees, and what libcap writes.
	Eq(t, secGetcap(t, path), path+" "+want.String(), "getcap output")
	secSetcap(t, "cap_kill=p cap_bpf+i", path)
	got, err = caps.GetFile(k, path)
	OK(t, err)
	Eq(t, got, caps.FileCaps{Permitted: api.CapSetOf(api.CAP_KILL), Inheritable: api.CapSetOf(api.CAP_BPF), Version: 2}, "setcap's capabilities")
	parsed, err := caps.ParseFile(strings.TrimPrefix(secGetcap(t, path), path+" "))
	OK(t, err)
	Eq(t, parsed, got, "getcap's text parsed")
	OK(t, caps.RemoveFile(k, path))
	OK(t, caps.RemoveFile(k, path), "removing twice")
	_, err = caps.GetFile(k, path)
	Want(t, err, api.ENODATA, "after removal")
}

func testFileCapsV3(t T, e *Env) {
	k := e.K
	path := CreateFile(t, e, "fcaps3", nil)
	want := caps.FileCaps{Inheritable: api.CapSetOf(api.CAP_CHOWN), Effective: true, Version: 3, RootID: 1000}
	err := caps.SetFile(k, path, want)
	NoSys(t, err)
	if errors.Is(err, api.EOPNOTSUPP) {
		t.Skipf("the temp dir's file system takes no security.* attributes: %v", err)
	}
	OK(t, err, "set v3 file capabilities")
	got, err := caps.GetFile(k, path)
	OK(t, err)
	Eq(t, got, want, "read back")
	sz, _ := k.Const("XATTR_CAPS_SZ_3")
	n, err := k.Getxattr(path, caps.XattrName, nil)
	OK(t, err)
	Eq(t, uint64(n), sz, "attribute size")
	// A version 3 attribute whose root is the reader's own root reads
	// back as version 2.
	OK(t, caps.SetFile(k, path, caps.FileCaps{Permitted: api.CapSetOf(api.CAP_KILL), Version: 3, RootID: 0}))
	got, err = caps.GetFile(k, path)
	OK(t, err)
	Eq(t, got, caps.FileCaps{Permitted: api.CapSetOf(api.CAP_KILL), Version: 2}, "v3 with rootid 0")
	OK(t, caps.SetFile(k, path, want))
	Eq(t, secGetcap(t, path), path+" "+want.String(), "getcap -n output")
	secSetcap(t, "-n", "2000", "cap_setuid,cap_setgid+ep", path)
	got, err = caps.GetFile(k, path)
	OK(t, err)
	Eq(t, got, caps.FileCaps{Permitted: api.CapSetOf(api.CAP_SETUID, api.CAP_SETGID), Effective: true, Version: 3, RootID: 2000}, "setcap -n 2000")
}
