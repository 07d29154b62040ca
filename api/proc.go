package api

// procState is this family's per-Kernel state, filled in at New.
type procState struct{}

func (*procState) init(*Kernel) error { return nil }
