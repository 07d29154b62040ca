package api

// sockState is this family's per-Kernel state, filled in at New.
type sockState struct{}

func (*sockState) init(*Kernel) error { return nil }
