package memfs

// Change notification: an FS made with Options.Notify reports what happens
// to its files, as Linux's fsnotify does for inotify. Events carry Linux's
// IN_* bits.

// inotify event bits.
const (
	IN_ACCESS        = 0x1
	IN_MODIFY        = 0x2
	IN_ATTRIB        = 0x4
	IN_CLOSE_WRITE   = 0x8
	IN_CLOSE_NOWRITE = 0x10
	IN_OPEN          = 0x20
	IN_MOVED_FROM    = 0x40
	IN_MOVED_TO      = 0x80
	IN_CREATE        = 0x100
	IN_DELETE        = 0x200
	IN_DELETE_SELF   = 0x400
	IN_MOVE_SELF     = 0x800
	IN_IGNORED       = 0x8000
	IN_ISDIR         = 0x40000000
)

// Event is one change. Dir and Name say where it happened, when it
// happened to a name in a directory (Dir's watchers get it with the name);
// Ino is the file itself (its own watchers get it without a name). Dir is
// nil for events on a file that has no name there (opened anonymous
// files, or self events).
type Event struct {
	Dir    *Inode
	Name   string
	Ino    *Inode
	Mask   uint32 // IN_* bits, IN_ISDIR included for directories
	Cookie uint32 // pairs IN_MOVED_FROM with IN_MOVED_TO
}

// notify reports an event; the caller holds the mutex.
func (fs *FS) notify(dir *Inode, name string, ino *Inode, mask uint32, cookie uint32) {
	if fs.onEvent == nil {
		return
	}
	if ino != nil && ino.isDir() {
		mask |= IN_ISDIR
	}
	fs.onEvent(Event{Dir: dir, Name: name, Ino: ino, Mask: mask, Cookie: cookie})
}

// event reports an event on an open file: to the directory it was
// opened in, under the name it was opened by, and to the file itself.
func (f *File) event(mask uint32) {
	f.fs.notify(f.dir, f.name, f.ino, mask, 0)
}
