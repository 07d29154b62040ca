package api

// miscState is the per-Kernel state of terminals, message queues, AIO, fanotify and ptrace, filled in at New.
type miscState struct{}

func (*miscState) init(*Kernel) error { return nil }
