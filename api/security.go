package api

// secState is the per-Kernel state of seccomp and capabilities, filled in at New.
type secState struct{}

func (*secState) init(*Kernel) error { return nil }
