package api

// memState is this family's per-Kernel state, filled in at New.
type memState struct{}

func (*memState) init(*Kernel) error { return nil }
