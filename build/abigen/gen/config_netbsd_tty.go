package gen

// NetBSD's pseudo-terminal ABI: struct ptmget and the requests that carry
// it (TIOCPTMGET on /dev/ptm, TIOCPTSNAME on a master or slave), and the
// FREAD/FWRITE bits TIOCFLUSH takes. api's Grantpt, Ptsname and Tcflush
// use them on NetBSD (and so on a rump kernel).
//
// x/sys's TIOCPTMGET and TIOCPTSNAME (0x40287446, 0x40287448) are
// NetBSD 6's, whose ptmget had 16-byte names: NetBSD 7 gave cn and sn
// PATH_MAX bytes (src/sys/sys/ttycom.h,v 1.20, 2012; the old numbers live on
// as COMPAT_60_TIOCPTMGET in src/sys/compat/sys/ttycom.h), which x/sys's
// own Ptmget type already has. So the x/sys values are excluded and the
// requests are computed here from the struct, as NetBSD's _IOR does;
// build/abicheck's allow-list records the difference.
//
// This block is kept apart from config_xsys.go, which other work edits:
// init below adds it to the NetBSD targets xsysTargets made.

// netbsdTTYPrefixes select the unit's constants.
var netbsdTTYPrefixes = []string{"TIOCPTMGET$", "TIOCPTSNAME$", "FREAD$", "FWRITE$"}

// netbsdTTYStructs are the unit's structs.
var netbsdTTYStructs = []structSpec{
	{Name: "ptmget", CType: "struct ptmget", Unit: "tty"},
}

// netbsdTTY is the unit's C text.
const netbsdTTY = `
/* src/sys/sys/ioccom.h,v 1.12 */
#define IOCPARM_MASK 0x1fff
#define IOCPARM_SHIFT 16
#define IOCGROUP_SHIFT 8
#define IOC_OUT (unsigned long)0x40000000
#define _IOC(inout, group, num, len) \
	((inout) | (((len) & IOCPARM_MASK) << IOCPARM_SHIFT) | \
	((group) << IOCGROUP_SHIFT) | (num))
#define _IOR(g,n,t) _IOC(IOC_OUT, (g), (n), sizeof(t))

/* src/sys/sys/syslimits.h,v 1.28 */
#define PATH_MAX 1024

/* src/sys/sys/ttycom.h,v 1.20 */
struct ptmget {
	int cfd;
	int sfd;
	char cn[PATH_MAX];
	char sn[PATH_MAX];
};
#define TIOCPTMGET _IOR('t', 70, struct ptmget)
#define TIOCPTSNAME _IOR('t', 72, struct ptmget)

/* src/sys/sys/fcntl.h,v 1.47: the queues TIOCFLUSH takes. */
#define FREAD 0x00000001
#define FWRITE 0x00000002
`

func init() {
	for _, t := range xsysTargets {
		if t.GOOS != "netbsd" {
			continue
		}
		t.XSys.Exclude = append(t.XSys.Exclude, "TIOCPTMGET$", "TIOCPTSNAME$")
		t.Units = append(t.Units, unit{Name: "tty", Prelude: netbsdTTY})
		t.Prefixes = append(t.Prefixes, netbsdTTYPrefixes...)
		t.Structs = append(t.Structs, netbsdTTYStructs...)
	}
}
