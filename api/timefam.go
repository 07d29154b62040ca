package api

// timeState is this family's per-Kernel state, filled in at New.
type timeState struct{}

func (*timeState) init(*Kernel) error { return nil }
