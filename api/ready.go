package api

// readyState is this family's per-Kernel state, filled in at New.
type readyState struct{}

func (*readyState) init(*Kernel) error { return nil }
